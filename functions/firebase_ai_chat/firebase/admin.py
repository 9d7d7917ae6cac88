"""The Firebase Admin app and Firestore client, created once per process on first use.

The Firestore SDK (``google.cloud.firestore``, with gRPC and protobuf) is imported by
``firestore_client()``, not with this module: importing the functions' ``main.py`` (every cold
instance, and ``firebase deploy`` discovering the functions) does not pay for it.

Against the emulators (``FIRESTORE_EMULATOR_HOST`` set) with no Google
credentials available, the app uses anonymous credentials, which the
emulators accept; in production it uses Application Default Credentials.
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING

import firebase_admin
import google.auth.credentials
from firebase_admin import credentials

if TYPE_CHECKING:
    from google.cloud.firestore import Client


class _EmulatorCredential(credentials.Base):
    def get_credential(self) -> google.auth.credentials.Credentials:
        return google.auth.credentials.AnonymousCredentials()


def _uses_emulators() -> bool:
    return bool(os.environ.get("FIRESTORE_EMULATOR_HOST")) and not os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")


@functools.cache
def firebase_app() -> firebase_admin.App:
    """The default Firebase Admin app, initialized on first call."""
    if firebase_admin._apps:
        return firebase_admin.get_app()
    if _uses_emulators():
        project = os.environ.get("GCLOUD_PROJECT") or os.environ.get("GOOGLE_CLOUD_PROJECT") or "demo-ai-chat"
        return firebase_admin.initialize_app(_EmulatorCredential(), {"projectId": project})
    return firebase_admin.initialize_app()


@functools.cache
def firestore_client() -> Client:
    """The Firestore client of ``firebase_app()`` (the Firestore SDK is imported here, on first use)."""
    from firebase_admin import firestore

    return firestore.client(firebase_app())
