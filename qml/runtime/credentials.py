"""IBM Quantum credentials: found without any network call, never written anywhere.

Order: ``QISKIT_IBM_TOKEN`` (with ``QISKIT_IBM_CHANNEL`` and ``QISKIT_IBM_INSTANCE``),
then an account saved with ``QiskitRuntimeService.save_account``.  A
:class:`Credentials` object hides its token from ``repr``/``str`` and pickling,
and :func:`redact` scrubs it from any text we log or raise.
"""

from __future__ import annotations

import os
import re

from ..errors import BackendError, CredentialsError

DEFAULT_CHANNEL = "ibm_quantum_platform"
_KNOWN_TOKENS: set[str] = set()

HOW_TO = (
    "Set your IBM Quantum API key in the environment before starting Python, e.g. "
    "`export QISKIT_IBM_TOKEN=<your API key>` (optionally QISKIT_IBM_INSTANCE=<instance CRN> and "
    "QISKIT_IBM_CHANNEL=ibm_quantum_platform), or save it once with "
    "`from qiskit_ibm_runtime import QiskitRuntimeService; "
    "QiskitRuntimeService.save_account(token='<your API key>', channel='ibm_quantum_platform', "
    "set_as_default=True)`. To try the same code path offline, use a fake device such as "
    "backend='ibm:FakeManilaV2' or pass local=True."
)


class Credentials:
    """Where the service account comes from; the token itself never shows in ``repr``.

    A plain class (not a dataclass) so that ``dataclasses.asdict``/``vars``-style dumps used for
    logs and checkpoints cannot reach the token; pickling drops it too.

    Attributes:
        channel: ``"ibm_quantum_platform"`` (or ``"ibm_cloud"``).
        instance: instance CRN or ``None``.
        saved_name: name of a saved account, or ``None`` when the token came from the environment.
    """

    __slots__ = ("channel", "instance", "saved_name", "__token")

    def __init__(
        self,
        channel: str = DEFAULT_CHANNEL,
        instance: str | None = None,
        saved_name: str | None = None,
        token: str | None = None,
    ):
        self.channel = channel
        self.instance = instance
        self.saved_name = saved_name
        self.__token = token

    @property
    def _token(self) -> str | None:
        return self.__token

    @property
    def source(self) -> str:
        return "environment (QISKIT_IBM_TOKEN)" if self.__token else f"saved account {self.saved_name!r}"

    def __repr__(self) -> str:
        return f"Credentials(channel={self.channel!r}, instance={self.instance!r}, source={self.source!r})"

    __str__ = __repr__

    def __reduce__(self):  # pickling drops the token: it must be re-read from the environment
        return (Credentials, (self.channel, self.instance, self.saved_name, None))


def check_device_name(name: str, fake_names) -> None:
    """Refuse a device name that no account can have, before credentials are looked for.

    Real IBM Quantum devices are named ``ibm_<city>``; ``least_busy`` picks one; fake devices
    are the names in ``fake_names`` (case-sensitive, e.g. ``FakeManilaV2``; names starting with
    ``Fake`` are left to the local-mode lookup, which lists the valid ones).

    Raises:
        BackendError: names the unknown device and suggests the right spelling when one matches.
    """
    if name == "least_busy" or name.startswith("Fake") or re.fullmatch(r"ibm_[a-z0-9_]+", name):
        return  # Fake* names are looked up (and refused with the list) by the local-mode path
    lower = {n.lower(): n for n in fake_names}
    guess = lower.get(name.lower()) or lower.get(name.lower() + "v2")
    hint = f"did you mean 'ibm:{guess}' (names are case-sensitive)? " if guess else ""
    sample = ", ".join(list(fake_names)[:4])
    raise BackendError(
        f"unknown IBM device {name!r} in 'ibm:{name}': {hint}use a real device such as 'ibm:ibm_brisbane', "
        f"'ibm:least_busy', or a fake device for offline runs such as {sample} ... "
        f"({len(fake_names)} in all; see qml.runtime.fake_backend_names())"
    )


def resolve_credentials(instance: str | None = None) -> Credentials:
    """Find credentials in the environment or the saved accounts, without touching the network.

    Args:
        instance: instance overriding ``QISKIT_IBM_INSTANCE``.

    Raises:
        CredentialsError: no token anywhere; the message says how to set one.
    """
    token = os.environ.get("QISKIT_IBM_TOKEN", "").strip()
    channel = os.environ.get("QISKIT_IBM_CHANNEL", "").strip() or DEFAULT_CHANNEL
    instance = instance or os.environ.get("QISKIT_IBM_INSTANCE", "").strip() or None
    if token:
        _KNOWN_TOKENS.add(token)
        return Credentials(channel, instance, None, token)
    saved = _saved_accounts()
    if saved:
        name = "default-ibm-quantum-platform" if "default-ibm-quantum-platform" in saved else sorted(saved)[0]
        account = saved[name]
        if account.get("token"):
            _KNOWN_TOKENS.add(account["token"])
        return Credentials(account.get("channel", channel), instance or account.get("instance"), name, None)
    raise CredentialsError("No IBM Quantum credentials found. " + HOW_TO)


def _saved_accounts() -> dict:
    """Accounts saved on disk by qiskit-ibm-runtime (reads a local JSON file only)."""
    try:
        from qiskit_ibm_runtime import QiskitRuntimeService

        return dict(QiskitRuntimeService.saved_accounts() or {})
    except Exception:  # noqa: BLE001 - no or unreadable account file: no saved account
        return {}


def connect(credentials: Credentials):
    """Open a ``QiskitRuntimeService`` for ``credentials`` (this is the first network call).

    Raises:
        CredentialsError: the service rejected the credentials; the token is redacted.
    """
    from qiskit_ibm_runtime import QiskitRuntimeService

    try:
        if credentials._token:
            return QiskitRuntimeService(
                channel=credentials.channel, token=credentials._token, instance=credentials.instance
            )
        return QiskitRuntimeService(name=credentials.saved_name, instance=credentials.instance)
    except Exception as exc:  # noqa: BLE001 - re-raised with the token scrubbed
        raise CredentialsError(
            f"could not connect to IBM Quantum with {credentials!r}: {redact(str(exc))}. " + HOW_TO
        ) from None


def redact(text: str) -> str:
    """Replace every token this process has seen (and the current env token) with ``***``."""
    tokens = set(_KNOWN_TOKENS)
    env = os.environ.get("QISKIT_IBM_TOKEN", "").strip()
    if env:
        tokens.add(env)
    for token in tokens:
        if token:
            text = text.replace(token, "***")
    return text
