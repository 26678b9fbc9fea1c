"""Orderline's small error hierarchy: the worker retries Transient errors and parks Permanent ones.

SDK and driver exceptions are translated into these at the edge (channels, store, nlu), so the
worker decides retry-or-park without knowing which library failed.
"""


class OrderlineError(Exception):
    """Base of every error Orderline raises on purpose."""


class TransientError(OrderlineError):
    """Worth retrying later: a timeout, a 5xx, a rate limit, a lost connection."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(OrderlineError):
    """Retrying cannot help: a refused recipient, a malformed message. Parked for an operator."""


class SendError(OrderlineError):
    """A reply could not be handed to its channel."""


class TransientSendError(SendError, TransientError):
    pass


class PermanentSendError(SendError, PermanentError):
    pass


class RecipientUnreachable(PermanentSendError):
    """The customer blocked the bot, opted out, or is outside the channel's messaging window."""


class StoreUnavailable(TransientError):
    """MongoDB could not be reached or timed out."""


class QueueUnavailable(TransientError):
    """Redis could not be reached: nothing was accepted, the sender should retry."""


class ModelUnavailable(TransientError):
    """The language model gave no usable answer in time; the caller falls back to the offline parser.

    `cause` is the operator-facing name of what happened: "timeout", "rate_limited" or "error".
    """

    cause = "error"


class ModelTimeout(ModelUnavailable):
    cause = "timeout"


class ModelRateLimited(ModelUnavailable):
    cause = "rate_limited"


class ModelConfigError(ModelUnavailable):
    """The model API refused the request itself (400/401/403/404): a bad key, a retired model, a
    setting the model or API version does not take. Not an outage: retrying cannot help, an
    operator must act. `status` is the HTTP status, `api_message` what the API said."""

    cause = "config"

    def __init__(self, status: int, api_message: str, api_status: str = ""):
        super().__init__(f"model API answered {status} {api_status}: {api_message}")
        self.status, self.api_message, self.api_status = status, api_message, api_status
