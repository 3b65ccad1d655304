"""A pytest plugin for NetworkX's own suite: counts the calls that reach alchemist's backend.

Loaded with ``-p tests.nx_backend.count_calls`` by test_networkx_suite.py; writes the counts as JSON
to ``$ALCHEMIST_NX_CALLS`` when the session ends.
"""

import collections
import functools
import json
import os

CALLS = collections.Counter()


def pytest_configure(config):
    from alchemist import nx_backend

    for name, fn in nx_backend.FUNCTIONS.items():
        @functools.wraps(fn)
        def counted(*args, __fn=fn, __name=name, **kwargs):
            CALLS[__name] += 1
            return __fn(*args, **kwargs)

        setattr(nx_backend.BackendInterface, name, staticmethod(counted))


def pytest_sessionfinish(session, exitstatus):
    with open(os.environ["ALCHEMIST_NX_CALLS"], "w") as fh:
        json.dump(CALLS, fh)
