"""What a user's server and the share service agree on, across processes."""

#: Which of the caller's servers `sessions/current` means: set by a user's server when it
#: carries its owner's requests to the service (URL-quoted).
SERVER_HEADER = "X-Jupyter-Share-Server"
