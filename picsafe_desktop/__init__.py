"""PicSafe Desktop: clinical photo intake that de-identifies, encrypts and records consent."""

__version__ = "0.1.0"
APP_NAME = "PicSafe Desktop"
APP_ID = "picsafe-desktop"
ORG_NAME = "PicSafe"
ORG_DOMAIN = "picsafe.example"
