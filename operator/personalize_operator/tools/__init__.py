"""`personalize-operator` subcommands for people coming from the AWS CLI: skeleton, manifest, import, doctor.

Each subcommand lives in its own module; commands.py only wires them into
the console script. Exit codes are the same everywhere (exits.py).
"""
