"""The one waiter (module_utils/_waiter.py) and every wait built on it.

Each wait the collection had as its own loop (the IPS job, the EC2 import task and AMI, the EBS
snapshot and volume, the GCP operation, the Azure long-running operation, and on the controller the
upload and job followers) now runs through `Waiter.until`; a test per wait shows the timeout error it
gives: the id, the status, the progress, the option to raise, and that nothing was cancelled.

The IPS job wait runs against the lab (test_jobs_wait.py). For the cloud waits no stand-in can hold an
operation in a state for as long as a test wants (moto completes snapshots, volumes and AMIs at once
and has no ImportImage; the GCE plane finishes operations at once), so the client object a wait looks
through is replaced by a stub answering "still running"; each test says which. The Azure operation
wait is also run against the lab's Azure plane with slowed disk creation, in the integration suite.
"""

import collections
import threading

import pytest

from ansible_collections.citrix_community.ips.plugins.module_utils import _aws_image, _retries
from ansible_collections.citrix_community.ips.plugins.module_utils._waiter import NoWait, Status, Waiter, WaitTimeout, for_options


class Clock(object):
    """A monotonic clock that moves only when the waiter sleeps."""

    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def fake_waiter(timeout, interval, **kw):
    clock = Clock()
    return Waiter(timeout, interval, clock=clock, sleep=clock.sleep, **kw), clock


def assert_timeout_message(err, *parts):
    text = str(err)
    for part in parts:
        assert part in text, (part, text)
    assert "not cancelled" in text and "keeps running" in text


# --- the waiter itself ------------------------------------------------------------------------


def test_until_returns_the_first_done_observation_and_reports_each_change_once():
    answers = iter([("run", 10), ("run", 10), ("run", 55), ("done", 100)])
    seen = []
    waiter, clock = fake_waiter(60, 5, on_change=lambda status, obs: seen.append(status.progress))
    got = waiter.until("Job", lambda: next(answers), lambda o: o[0] == "done", lambda o: Status("j1", o[0], o[1], None))
    assert got == ("done", 100)
    assert seen == [10, 55, 100]
    assert clock.sleeps == [5, 5, 5]


def test_the_deadline_is_kept_exactly_and_the_timeout_names_everything():
    waiter, clock = fake_waiter(12, 5)
    with pytest.raises(WaitTimeout) as err:
        waiter.until("Job", lambda: {"p": 37.4}, lambda o: False, lambda o: Status("j-7", "inProgress", o["p"], "preparing"))
    assert clock.sleeps == [5, 5, 2]  # the last sleep is cut short so the deadline is kept
    assert err.value.job_id == "j-7" and err.value.job_status == "inProgress" and err.value.progress == 37.4
    assert err.value.last == {"p": 37.4}
    assert str(err.value) == ("Job j-7 is still inProgress at 37.4% (stage preparing) after waiting 12 s (wait_timeout). It was not "
                              "cancelled and keeps running; run the task again to attach to it and resume waiting, or raise wait_timeout.")


def test_a_first_observation_in_hand_is_judged_before_any_look():
    looks = []
    waiter, clock = fake_waiter(10, 1)
    assert waiter.until("Job", lambda: looks.append(1), lambda o: o == "done", lambda o: Status("j", o, None, None), first="done") == "done"
    assert looks == [] and clock.sleeps == []


def test_one_waiter_is_one_budget_across_waits():
    waiter, clock = fake_waiter(10, 4)
    states = iter(["a", "b", "b", "b", "b"])
    waiter.until("Task", lambda: next(states), lambda o: o == "b", lambda o: Status("t", o, None, None))
    with pytest.raises(WaitTimeout) as err:
        waiter.until("Image", lambda: "pending", lambda o: False, lambda o: Status("ami-1", o, None, None))
    assert sum(clock.sleeps) == 10 and "after waiting 10 s" in str(err.value)


def test_errors_of_a_look_end_the_wait_as_they_are():
    waiter, _clock = fake_waiter(10, 1)

    def look():
        raise ValueError("the job failed")

    with pytest.raises(ValueError, match="the job failed"):
        waiter.until("Job", look, lambda o: False, lambda o: Status("j", "x", None, None))


def test_no_wait_looks_once_and_never_sleeps():
    seen = []
    waiter = NoWait(on_change=lambda status, obs: seen.append(status))
    assert waiter.until("Job", lambda: "running", lambda o: False, lambda o: Status("j", o, 5, None)) == "running"
    assert seen == [Status("j", "running", 5, None)]
    assert isinstance(for_options(True, 10, 1, check_mode=True), NoWait)
    assert isinstance(for_options(False, 10, 1), NoWait)
    assert isinstance(for_options(True, 10, 1), Waiter) and for_options(True, 10, 1).waits


def test_progress_prints_one_decimal_only_when_it_has_one():
    for progress, shown in ((40, "at 40%"), (40.0, "at 40%"), (40.5, "at 40.5%")):
        waiter, _clock = fake_waiter(1, 1)
        with pytest.raises(WaitTimeout) as err:
            waiter.until("Job", lambda: 0, lambda o: False, lambda o, p=progress: Status("j", "inProgress", p, None))
        assert shown in str(err.value)
    waiter, _clock = fake_waiter(1, 1)
    with pytest.raises(WaitTimeout) as err:
        waiter.until("Job", lambda: 0, lambda o: False, lambda o: Status("j", "pending", None, None))
    assert "is still pending after" in str(err.value)


# --- the retry primitive ------------------------------------------------------------------------


def test_retrier_backs_off_with_the_one_formula_and_honours_a_given_wait():
    sleeps = []
    retrier = _retries.Retrier(_retries.policy(max_retries=3, max_delay=30, base_delay=0.5), sleep=sleeps.append, rand=lambda: 1.0)
    calls = collections.deque([OSError("reset"), OSError("reset"), KeyError("busy"), "ok"])

    def flaky():
        item = calls.popleft()
        if isinstance(item, Exception):
            raise item
        return item

    def classify(exc):
        if isinstance(exc, KeyError):
            return True, True, 7  # throttled, the other side asked for 7 s
        return True, False, 0

    assert retrier.call(classify, flaky) == "ok"
    assert sleeps == [0.5, 1.0, 7]  # full-jitter ceiling (rand 1.0) 0.5 * 2**n, then the asked-for wait
    assert retrier.retries == 3 and retrier.throttled == 1


def test_retrier_gives_up_after_its_budget_and_raises_the_last_failure():
    sleeps = []
    retrier = _retries.Retrier(_retries.policy(max_retries=2), sleep=sleeps.append, rand=lambda: 0.0)

    def always():
        raise OSError("still down")

    with pytest.raises(OSError, match="still down"):
        retrier.call(lambda exc: (True, False, 0), always)
    assert len(sleeps) == 2 and retrier.retries == 2
    with pytest.raises(OSError):
        retrier.call(lambda exc: None, always)  # final at once
    assert len(sleeps) == 2


def test_a_paced_throttle_does_not_use_up_the_tries_within_the_budget():
    """Twenty migrations at once against a 429 storm (bench/migrations.py): a call throttled with Retry-After more
    times than max_retries still succeeds while the waits the service asked for stay within max_retries x max_delay;
    beyond that, and for throttling without a wait, the tries count as before."""
    sleeps = []
    retrier = _retries.Retrier(_retries.policy(max_retries=2, max_delay=3), sleep=sleeps.append, rand=lambda: 1.0)
    answers = collections.deque(["429"] * 6 + ["ok"])

    def storm():
        item = answers.popleft()
        if item == "429":
            raise KeyError("throttled")
        return item

    assert retrier.call(lambda exc: _retries.Verdict(True, True, 1), storm) == "ok"  # 6 paced waits of 1 s: within 2 x 3 s
    assert sleeps == [1] * 6 and retrier.retries == 6 and retrier.throttled == 6
    answers.extend(["429"] * 9 + ["ok"])
    with pytest.raises(KeyError):
        retrier.call(lambda exc: _retries.Verdict(True, True, 1), storm)  # 6 s paced, then the 2 counted tries, then it fails
    assert sleeps[6:] == [1] * 8
    answers.clear()
    answers.extend(["429"] * 3 + ["ok"])
    with pytest.raises(KeyError):
        retrier.call(lambda exc: _retries.Verdict(True, True, 0), storm)  # no wait asked: counted tries only
    zero = _retries.Retrier(_retries.policy(max_retries=0), sleep=sleeps.append)
    answers.clear()
    answers.extend(["429", "ok"])
    with pytest.raises(KeyError):
        zero.call(lambda exc: _retries.Verdict(True, True, 1), storm)  # max_retries 0: no retry at all


def test_an_uncounted_retry_happens_once_only():
    calls = []
    retrier = _retries.Retrier(_retries.policy(max_retries=0), sleep=lambda s: None)

    def unauthorised():
        calls.append(1)
        raise PermissionError("401")

    with pytest.raises(PermissionError):
        retrier.call(lambda exc: _retries.Verdict(True, counted=False), unauthorised)
    assert len(calls) == 2


# --- each former loop ---------------------------------------------------------------------------


class StubEc2(object):
    """EC2 answering 'still running' for ever (moto completes at once and has no ImportImage)."""

    def __init__(self):
        self.calls = collections.Counter()

    def describe_import_image_tasks(self, **kw):
        self.calls["describe_import_image_tasks"] += 1
        return {"ImportImageTasks": [{"ImportTaskId": "import-ami-0abc", "Status": "active", "Progress": "27",
                                      "StatusMessage": "converting"}]}

    def describe_images(self, **kw):
        self.calls["describe_images"] += 1
        return {"Images": [{"ImageId": "ami-0abc", "State": "pending"}]}

    def complete_snapshot(self, **kw):
        return {"Status": "completed"}

    def describe_snapshots(self, **kw):
        self.calls["describe_snapshots"] += 1
        return {"Snapshots": [{"SnapshotId": "snap-0abc", "State": "pending", "Progress": "63%"}]}

    def create_volume(self, **kw):
        return {"VolumeId": "vol-0abc", "State": "creating"}

    def describe_volumes(self, **kw):
        self.calls["describe_volumes"] += 1
        return {"Volumes": [{"VolumeId": "vol-0abc", "State": "creating"}]}


def test_ec2_import_task_wait_times_out_with_its_progress():
    ec2 = StubEc2()
    waiter, _clock = fake_waiter(60, 15)
    with pytest.raises(WaitTimeout) as err:
        _aws_image.wait_import(ec2, "import-ami-0abc", waiter)
    assert_timeout_message(err.value, "The import task import-ami-0abc is still active at 27% (stage converting)", "(wait_timeout)")
    assert ec2.calls["describe_import_image_tasks"] == 5  # at 0, 15, 30, 45, 60 s


def test_ami_wait_times_out_with_its_state():
    ec2 = StubEc2()
    waiter, _clock = fake_waiter(30, 15)
    with pytest.raises(WaitTimeout) as err:
        _aws_image.wait_available(ec2, "ami-0abc", waiter, first={"ImageId": "ami-0abc", "State": "pending"})
    assert_timeout_message(err.value, "The image ami-0abc is still pending after waiting 30 s", "(wait_timeout)")


FakeImage = collections.namedtuple("FakeImage", "name virtual_size logical_sector_size unique_id identity")
IMAGE = FakeImage("disk.vhdx", 1 << 30, 512, b"\x01" * 16, "id")


def test_ebs_snapshot_wait_times_out_naming_wait_timeout():
    pytest.importorskip("boto3")
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.aws import AwsTarget
    target = AwsTarget({"snapshot_name": "s1", "region": "us-east-1", "access_key_id": "AKIDEXAMPLE", "secret_access_key": "k"},
                       IMAGE, "fp", wait_timeout=0.3)
    target.wait_interval = 0.1
    target.ec2 = target.ebs = StubEc2()  # stand-in: a snapshot that stays pending (moto completes it at once)
    target.snapshot_id = "snap-0abc"

    class Journal(object):
        done = {}

    with pytest.raises(WaitTimeout) as err:
        target.finish(Journal())
    assert_timeout_message(err.value, "The snapshot snap-0abc is still pending at 63%", "(wait_timeout)", "or raise wait_timeout",
                           "run the task again: it finds the snapshot s1 and resumes the upload")


def test_ebs_volume_wait_times_out_naming_wait_timeout():
    pytest.importorskip("boto3")
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.aws import AwsTarget
    target = AwsTarget({"snapshot_name": "s1", "region": "us-east-1", "availability_zone": "us-east-1a", "access_key_id": "AKIDEXAMPLE",
                        "secret_access_key": "k"}, IMAGE, "fp", wait_timeout=0.3)
    target.wait_interval = 0.1
    target.ec2 = StubEc2()  # stand-in: a volume that stays creating
    target.snapshot_id = "snap-0abc"
    with pytest.raises(WaitTimeout) as err:
        target._create_volume()
    assert_timeout_message(err.value, "The volume vol-0abc is still creating after waiting", "(wait_timeout)")


def test_gcp_operation_wait_times_out_naming_wait_timeout():
    pytest.importorskip("google.cloud.storage")
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.gcp import GcpTarget
    target = GcpTarget({"project": "p1", "bucket": "b1", "image_name": "img1", "token": "ya29.secret"}, IMAGE, "fp", wait_timeout=0.3)
    target.wait_interval = 0.1
    looks = []

    def compute(method, path, **kw):  # stand-in: an operation that stays RUNNING (the GCE plane finishes at once)
        looks.append(path)
        return {"name": "op-123", "status": "RUNNING", "progress": 40}

    target._compute = compute
    with pytest.raises(WaitTimeout) as err:
        target._wait_op({"name": "op-123", "status": "PENDING"}, "create the image img1")
    assert_timeout_message(err.value, "The Compute Engine operation op-123 is still RUNNING at 40% (stage create the image img1)",
                           "(wait_timeout)", "it finds the image img1 and resumes the upload")
    assert looks and all(p == "global/operations/op-123" for p in looks)


def test_azure_operation_wait_times_out_naming_wait_timeout():
    pytest.importorskip("azure.mgmt.compute")
    from ansible_collections.citrix_community.ips.plugins.module_utils._upload.azure import AzureTarget
    target = AzureTarget({"subscription_id": "sub", "resource_group": "rg1", "disk_name": "d1", "location": "westeurope",
                          "tenant_id": "t", "client_id": "c", "client_secret": "s3cret"}, IMAGE, "fp", wait_timeout=0.3)
    target.wait_interval = 0.1

    waits = []

    class Poller(object):  # stand-in for azure-core's LROPoller of an operation that stays InProgress
        def done(self):
            return False

        def status(self):
            return "InProgress"

        def wait(self, timeout=None):  # LROPoller.wait: joins its polling thread for at most `timeout`
            waits.append(timeout)
            threading.Event().wait(timeout)

        def result(self, timeout=None):
            raise AssertionError("result() must not be called before done()")

    with pytest.raises(WaitTimeout) as err:
        target._call("create the disk d1", Poller)
    # the waiter pauses in the poller's own wait (which ends early when the operation does), never longer than its interval
    assert waits and all(0 < w <= 0.1 for w in waits), waits
    assert_timeout_message(err.value, "Azure's operation to create the disk d1 is still InProgress after waiting", "(wait_timeout)",
                           "it finds the disk d1 in rg1 and resumes the upload")
