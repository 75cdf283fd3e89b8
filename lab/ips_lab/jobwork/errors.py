"""The one error a job's work raises."""


class WorkFailed(Exception):
    """A job's work failed; `code` and the message become the job's error."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message
