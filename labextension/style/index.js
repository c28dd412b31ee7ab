import './base.css';
import './presence.css';
import './history.css';
