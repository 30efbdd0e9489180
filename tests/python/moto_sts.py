"""Runs moto's server as the STS peer of the integration tests.

Usage: python moto_sts.py PORT   (0: the kernel picks; the port is in the
"Running on http://127.0.0.1:PORT" line on stderr)

moto verifies SigV4 signatures once INITIAL_NO_AUTH_ACTION_COUNT calls have
been made. One realism fix: moto gives IAM users random lower-case ids, while
real IAM user ids are `AIDA` + 17 upper-case letters and digits, which arnmap's
strict identity parser requires; this patches only that id generator.
"""

import random
import string
import sys

import moto.iam.models as iam_models
from moto.server import main

_ALPHABET = string.ascii_uppercase + string.digits
_original_init = iam_models.User.__init__


def _user_init(self, *args, **kwargs):
    _original_init(self, *args, **kwargs)
    self.id = "AIDA" + "".join(random.choice(_ALPHABET) for _ in range(17))


iam_models.User.__init__ = _user_init

if __name__ == "__main__":
    main(["-H", "127.0.0.1", "-p", sys.argv[1]])
