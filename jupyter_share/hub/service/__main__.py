"""`python -m jupyter_share.hub.service`: the command `configure_jupyterhub` gives the Hub."""

from .app import main

main()
