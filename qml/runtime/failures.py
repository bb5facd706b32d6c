"""Failures of hardware jobs: bounded retries where safe, clear errors everywhere else.

Only network errors while submitting or polling are retried (with exponential
backoff): nothing was evaluated yet, so a retry cannot corrupt a step.  A failed,
cancelled, timed-out or lost job raises :class:`~qml.errors.JobFailedError`
naming the job id, so the optimizer never takes a step on a failed evaluation.
"""

from __future__ import annotations

import logging
import time
from typing import Callable

from ..errors import JobFailedError
from .credentials import redact

log = logging.getLogger("qml.runtime")

FINAL_OK = {"DONE"}
FINAL_BAD = {"ERROR", "CANCELLED", "FAILED"}
MAX_POLL_INTERVAL = 10.0


def network_errors() -> tuple[type[BaseException], ...]:
    """Exception types that mean "the request did not get through" (safe to retry)."""
    errors: list[type[BaseException]] = [ConnectionError, TimeoutError]
    try:
        import requests

        errors += [requests.exceptions.ConnectionError, requests.exceptions.Timeout]
    except ImportError:  # pragma: no cover
        pass
    return tuple(errors)


def is_retryable(exc: BaseException) -> bool:
    """A network error: connection/timeout errors, or a service HTTP error that is transient
    (``RequestsApiError`` with no status, 429 or 5xx). Client errors (401, 404, ...) are not retried."""
    if isinstance(exc, network_errors()):
        return True
    if type(exc).__name__ == "RequestsApiError":
        code = getattr(exc, "status_code", -1)
        return code in (-1, None, 429) or (isinstance(code, int) and code >= 500)
    return False


def is_not_found(exc: BaseException) -> bool:
    """True for "this job id does not exist" errors of qiskit-ibm-runtime (or our fake service)."""
    return type(exc).__name__ in ("RuntimeJobNotFound", "JobNotFound") or isinstance(exc, LookupError)


def with_retries(fn: Callable, *, what: str, retries: int, backoff: float, sleep: Callable = time.sleep):
    """Call ``fn()``; on a network error wait ``backoff * 2**attempt`` s and try again, ``retries`` times.

    Raises:
        JobFailedError: still failing after the retries (the last error is chained, redacted).
    """
    for attempt in range(retries + 1):
        try:
            return fn()
        except Exception as exc:
            if not is_retryable(exc):
                raise
            if attempt == retries:
                raise JobFailedError(
                    f"{what} failed after {retries + 1} attempts with a network error: {redact(str(exc))}. "
                    "Check your connection to IBM Quantum and run the step again; no optimizer step was taken."
                ) from None
            delay = backoff * 2**attempt
            log.warning(
                "%s: network error (%s), retry %d/%d in %.1f s",
                what,
                redact(type(exc).__name__),
                attempt + 1,
                retries,
                delay,
            )
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def status_name(job) -> str:
    """A job's status as an upper-case string (``"QUEUED"``, ``"RUNNING"``, ``"DONE"``, ...)."""
    status = job.status()
    return str(getattr(status, "name", status)).upper()


def wait_for(
    job,
    *,
    timeout: float,
    poll_interval: float = 0.5,
    retries: int = 3,
    backoff: float = 1.0,
    sleep: Callable = time.sleep,
    clock: Callable = time.monotonic,
    blocking: bool = False,
):
    """Poll ``job`` until it finishes and return its result.

    Args:
        job: a Qiskit (runtime) job with ``job_id()``, ``status()``, ``result()``.
        timeout: seconds to wait in total.
        poll_interval: first polling interval; it doubles up to 10 s.
        retries, backoff: network-error retries for each poll.
        blocking: the job runs in this process (local testing mode, an injected primitive): wait on
            ``result()`` directly instead of polling.

    Raises:
        JobFailedError: the job failed, was cancelled, timed out or is unknown to the service.
    """
    job_id = _job_id(job)
    if blocking:
        return result_of(job)
    start = clock()
    interval = poll_interval
    while True:
        try:
            status = with_retries(
                lambda: status_name(job), what=f"polling job {job_id}", retries=retries, backoff=backoff, sleep=sleep
            )
        except JobFailedError as exc:
            exc.job_id = job_id
            raise
        except Exception as exc:  # noqa: BLE001 - classified below
            if is_not_found(exc):
                raise JobFailedError(
                    f"job {job_id} was not found by the service (deleted, or another account's job). "
                    "Run the step again to submit a new job.",
                    job_id,
                ) from None
            raise
        if status in FINAL_OK:
            return result_of(job)
        if status in FINAL_BAD:
            raise failed(job, status)
        if clock() - start > timeout:
            exc = JobFailedError(
                f"job {job_id} was still {status} after {timeout:.0f} s. It keeps running on the service "
                f"and is recorded in the job store: fetch it later with `qml jobs fetch {job_id}`, rerun the "
                "step (a resumed run picks the job up), or raise the backend's timeout=...; no optimizer "
                "step was taken.",
                job_id,
            )
            exc.pending = True  # the job may still finish: keep it PENDING in the store
            raise exc
        sleep(interval)
        interval = min(interval * 2, MAX_POLL_INTERVAL)


def result_of(job):
    """``job.result()``, with a failed or cancelled job turned into :class:`JobFailedError`."""
    job_id = _job_id(job)
    try:
        return job.result()
    except Exception as exc:  # noqa: BLE001 - any failure to produce a result is a failed job
        raise JobFailedError(
            f"job {job_id} finished without a usable result: {redact(str(exc))}. "
            "Run the step again (a new job is submitted); no optimizer step was taken.",
            job_id,
        ) from None


def failed(job, status: str) -> JobFailedError:
    """The error for a job that ended in ``status`` (``ERROR`` or ``CANCELLED``)."""
    job_id = _job_id(job)
    if status == "CANCELLED":
        return JobFailedError(
            f"job {job_id} was cancelled. Run the step again to submit a new job; no optimizer step was taken.", job_id
        )
    try:
        reason = job.error_message() or "no reason given"
    except Exception:  # noqa: BLE001
        reason = "no reason given"
    return JobFailedError(
        f"job {job_id} failed on the service: {redact(str(reason))}. Check the circuit and options "
        f"(`qml jobs show {job_id}`), then run the step again; no optimizer step was taken.",
        job_id,
    )


def _job_id(job) -> str:
    try:
        return str(job.job_id())
    except Exception:  # noqa: BLE001
        return "<unknown>"
