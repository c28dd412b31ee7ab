"""What runs inside the JupyterHub process, from `jupyterhub_config.py`:

- `config`: `configure_jupyterhub(c)`, the share service, its role and the users' access;
- `spawner`: the spawner hooks that launch from shared images and formations, with `offers`
  (what a user may launch, asked of the share service) and `form` (the options form).
"""
