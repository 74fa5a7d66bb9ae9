"""Who is signed in: roles and permissions, the local PIN store and directory (LDAP) sign-in.

Qt-free. `services.py` decides which sign-in applies (docs/security.md, "Sign-in").
"""
