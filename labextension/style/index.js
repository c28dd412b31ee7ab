import './base.css';
import './presence.css';
