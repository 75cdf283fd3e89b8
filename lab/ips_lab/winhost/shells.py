"""Runspace pools and pipelines (psrpcore's server side) behind the WSMan shells, with per-target queues.

psrpcore is not thread-safe and keeps one send buffer per pool, so every change of a pool happens under
its shell's condition, and after each change the buffer is cut into fragments (<= 32 KiB) queued per
target: the pool itself (a Receive without CommandId) or one pipeline. A Receive takes whole fragments
from its target's queue or waits for some; a pipeline's cmdlets run in their own thread.
"""

import collections
import logging
import threading
import time
import uuid

from psrpcore import CreatePipelineEvent, PSRPPayload, ServerPipeline, ServerRunspacePool, StreamType
from psrpcore.types import ErrorCategory, ErrorCategoryInfo, ErrorRecord, NETException, PSInvocationState, PSRPMessageType

from .wsman import INVALID_SELECTORS, OPERATION_TIMEOUT, WsmanFault

LOG = logging.getLogger(__name__)
FRAGMENT_BYTES = 32 * 1024
FRAGMENTS_PER_RECEIVE = 8
MAX_RECEIVE_WAIT = 5.0  # an empty Receive answers the WSMan timeout fault after this; pypsrp polls again
TERMINAL = (PSInvocationState.Completed, PSInvocationState.Failed, PSInvocationState.Stopped)


class Command(object):
    """One command of a pipeline as it arrived: name, script flag, [(parameter name or None, value)]."""

    def __init__(self, name, is_script, parameters):
        self.name = name
        self.is_script = is_script
        self.parameters = parameters


class PipelineOutput(object):
    """What a running pipeline may do: write objects, end (Completed) or fail with an ErrorRecord (Failed)."""

    def __init__(self, shell, pipeline):
        self._shell = shell
        self._pipeline = pipeline
        self.stopped = threading.Event()

    def write(self, obj):
        with self._shell.cond:
            if self._pipeline.state == PSInvocationState.Running:
                self._pipeline.write_output(obj)
                self._shell.flush()

    def write_error(self, record):
        """A non-terminating error (the pipeline goes on)."""
        with self._shell.cond:
            if self._pipeline.state == PSInvocationState.Running:
                self._pipeline.prepare_message(record, message_type=PSRPMessageType.ErrorRecord)
                self._shell.flush()

    def complete(self):
        with self._shell.cond:
            if self._pipeline.state == PSInvocationState.Running:
                self._pipeline.complete()
                self._shell.flush()

    def fail(self, record):
        """A terminating error: the pipeline state Failed carrying the record (what pypsrp turns into had_errors)."""
        with self._shell.cond:
            if self._pipeline.state == PSInvocationState.Running:
                # psrpcore has no public call to fail a pipeline; its state change emits the PipelineState message
                self._pipeline._change_state(PSInvocationState.Failed, error=record)
                self._shell.flush()


def error_record(message, error_id, category, reason, exception_type, target=None):
    """An ErrorRecord as PowerShell serialises one: the .NET exception type names, category info, FQID."""
    exception = NETException(Message=message, HResult=-2146233087)
    exception.PSObject.type_names = [exception_type, "System.Exception", "System.Object"]
    info = ErrorCategoryInfo(Category=category, Reason=reason, TargetName=str(target) if target is not None else "",
                             TargetType=type(target).__name__ if target is not None else "")
    return ErrorRecord(Exception=exception, CategoryInfo=info, FullyQualifiedErrorId=error_id, TargetObject=target)


class Shell(object):
    """One WSMan shell = one server runspace pool, its queues and its pipelines."""

    def __init__(self, shell_id, client):
        self.id = shell_id
        self.client = client
        self.cond = threading.Condition()
        self.pool = ServerRunspacePool()
        self.queues = collections.defaultdict(collections.deque)  # None = the pool, else a command id
        self.pipelines = {}  # command id -> ServerPipeline
        self.outputs = {}  # command id -> PipelineOutput
        self.cmdlets = {}  # command id -> the command names it runs (fault rules match them)
        self.state = {}  # what the runspace remembers between pipelines (the appliance connection)
        self.closed = False

    def flush(self):
        """Move what psrpcore wants to send into the queues, whole fragments per target. Under cond."""
        while True:
            payload = self.pool.data_to_send(FRAGMENT_BYTES)
            if payload is None:
                break
            target = str(payload.pipeline_id).upper() if payload.pipeline_id else None
            self.queues[target].append(payload.data)
        self.cond.notify_all()

    def feed(self, data, command_id=None):
        """Give incoming PSRP fragments to the pool; returns the pipelines whose CreatePipeline completed."""
        created = []
        with self.cond:
            pipeline_id = uuid.UUID(command_id) if command_id else None
            self.pool.receive_data(PSRPPayload(data, StreamType.default, pipeline_id))
            while True:
                event = self.pool.next_event()
                if event is None:
                    break
                if isinstance(event, CreatePipelineEvent):
                    created.append((str(event.pipeline_id).upper(), event.pipeline))
            self.flush()
        return created

    def new_pipeline(self, command_id):
        with self.cond:
            # the pipeline object must exist before its CreatePipeline data is fed
            pipeline = ServerPipeline(self.pool, uuid.UUID(command_id))
            self.pipelines[command_id] = pipeline
            return pipeline

    def start(self, command_id, metadata, run):
        """Run the pipeline's commands with `run(shell, commands, output)` in a thread."""
        pipeline = self.pipelines[command_id]
        commands = [Command(c.command_text, bool(c.is_script), list(c.parameters)) for c in metadata.commands]
        output = PipelineOutput(self, pipeline)
        self.cmdlets[command_id] = [c.name for c in commands]
        with self.cond:
            self.outputs[command_id] = output
            pipeline.start()
            self.flush()

        def body():
            try:
                run(self, commands, output)
            except Exception as exc:  # a lab bug still ends the pipeline, as a terminating error
                LOG.exception("pipeline %s failed", command_id)
                output.fail(error_record("The lab's Windows host failed: %s" % exc, "LabInternalError", ErrorCategory.NotSpecified,
                                         "RuntimeException", "System.Management.Automation.RuntimeException"))
            finally:
                output.complete()

        thread = threading.Thread(target=body, name="winhost-pipeline-%s" % command_id[:8], daemon=True)
        thread.start()

    def receive(self, command_id, timeout):
        """(fragments, done) for a Receive; waits up to `timeout` for data, then raises the WSMan timeout fault."""
        deadline = time.monotonic() + min(timeout or MAX_RECEIVE_WAIT, MAX_RECEIVE_WAIT)
        with self.cond:
            while True:
                if command_id is not None and command_id not in self.pipelines:
                    raise WsmanFault(INVALID_SELECTORS, "The command %s does not exist in shell %s." % (command_id, self.id))
                queue = self.queues[command_id]
                if queue:
                    chunks = [queue.popleft() for _index in range(min(len(queue), FRAGMENTS_PER_RECEIVE))]
                    return chunks, self._done(command_id)
                if self._done(command_id):
                    return [], True
                left = deadline - time.monotonic()
                if left <= 0:
                    raise WsmanFault(OPERATION_TIMEOUT, "The WS-Management service cannot complete the operation within the time "
                                     "specified in OperationTimeout.", subcode="wsman:TimedOut")
                self.cond.wait(left)

    def _done(self, command_id):
        if command_id is None:
            return False
        pipeline = self.pipelines.get(command_id)
        return pipeline is not None and pipeline.state in TERMINAL and not self.queues[command_id]

    def signal(self, command_id, stop):
        """Ctrl+C stops a running pipeline; terminate forgets it."""
        with self.cond:
            pipeline = self.pipelines.get(command_id)
            if pipeline is None:
                return
            output = self.outputs.get(command_id)
            if output is not None:
                output.stopped.set()
            if pipeline.state == PSInvocationState.Running:
                pipeline.stop()
                self.flush()
            if not stop:
                self.pipelines.pop(command_id, None)
                self.queues.pop(command_id, None)
                pipeline.runspace_pool.pipeline_table.pop(pipeline.pipeline_id, None)

    def close(self):
        with self.cond:
            self.closed = True
            for output in self.outputs.values():
                output.stopped.set()
            self.cond.notify_all()


class Shells(object):
    """The host's open shells by id."""

    def __init__(self):
        self._lock = threading.Lock()
        self._shells = {}

    def create(self, wanted_id, client):
        shell_id = wanted_id or str(uuid.uuid4()).upper()
        shell = Shell(shell_id, client)
        with self._lock:
            self._shells[shell_id] = shell
        return shell

    def get(self, shell_id):
        with self._lock:
            shell = self._shells.get(shell_id or "")
        if shell is None:
            raise WsmanFault(INVALID_SELECTORS, "The shell %s does not exist (it was deleted or never created)." % shell_id,
                             subcode="wsman:InvalidSelectors")
        return shell

    def delete(self, shell_id):
        with self._lock:
            shell = self._shells.pop(shell_id or "", None)
        if shell is None:
            raise WsmanFault(INVALID_SELECTORS, "The shell %s does not exist." % shell_id, subcode="wsman:InvalidSelectors")
        shell.close()

    def all(self):
        with self._lock:
            return list(self._shells.values())

    def clear(self):
        with self._lock:
            shells, self._shells = list(self._shells.values()), {}
        for shell in shells:
            shell.close()
