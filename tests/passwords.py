"""Password hashing for the test run: Argon2, as in production, at the smallest cost.

Argon2 at Django's cost takes about 140 ms a password here, and most tests make several people. Hashes made
with these parameters still verify under production settings (Argon2 reads the cost from the hash), so a
server started by a test as a subprocess signs in the people the test made."""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class FastArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 64
    parallelism = 1


FAST_HASHERS = ["tests.passwords.FastArgon2PasswordHasher"]
