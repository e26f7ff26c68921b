"""grader/sandbox/winjob.py: the Windows job object around a worker, checked on any OS with a fake
kernel32 that reads the limits structure from the pointer it is given, as Windows would."""
import ctypes
import pickle
import sys
from types import SimpleNamespace

import pytest

from grader.sandbox import winjob

EXT = winjob.JOBOBJECT_EXTENDED_LIMIT_INFORMATION
BIG_HANDLE = 0x7FFF_0000_1234 if ctypes.sizeof(ctypes.c_void_p) == 8 else 0x7FFF_1234  # > 32 bits on 64-bit
GIB = 2 ** 30


class FakeKernel32:
    """Records calls and answers like kernel32 (nonzero BOOL on success, NULL handle on failure);
    `last_error` is what GetLastError would say."""

    def __init__(self, handle=BIG_HANDLE, set_ok=True, assign_ok=True, terminate_ok=True):
        self.handle, self.set_ok, self.assign_ok, self.terminate_ok = handle, set_ok, assign_ok, terminate_ok
        self.calls = []
        self.limits = None
        self.last_error = 0

    def CreateJobObjectW(self, attributes, name):
        self.calls.append(("CreateJobObjectW", attributes, name))
        if not self.handle:
            self.last_error = 1450  # ERROR_NO_SYSTEM_RESOURCES
        return self.handle

    def SetInformationJobObject(self, job, info_class, info, length):
        self.calls.append(("SetInformationJobObject", job, info_class, length))
        # read what the pointer points at, and keep a copy (the caller's buffer is temporary)
        self.limits = EXT.from_buffer_copy(ctypes.string_at(ctypes.cast(info, ctypes.c_void_p), ctypes.sizeof(EXT)))
        if not self.set_ok:
            self.last_error = 87  # ERROR_INVALID_PARAMETER
        return int(self.set_ok)

    def AssignProcessToJobObject(self, job, process):
        self.calls.append(("AssignProcessToJobObject", job, process))
        if not self.assign_ok:
            self.last_error = 5  # ERROR_ACCESS_DENIED
        return int(self.assign_ok)

    def TerminateJobObject(self, job, exit_code):
        self.calls.append(("TerminateJobObject", job, exit_code))
        if not self.terminate_ok:
            self.last_error = 6  # ERROR_INVALID_HANDLE
        return int(self.terminate_ok)

    def CloseHandle(self, handle):
        self.calls.append(("CloseHandle", handle))
        self.last_error = 0  # a later success resets it: the code must be read before
        return 1

    def named(self, name):
        return [call for call in self.calls if call[0] == name]


@pytest.fixture
def kernel32(monkeypatch):
    fake = FakeKernel32()
    monkeypatch.setattr(winjob, "_last_error", lambda: fake.last_error)
    return fake


def fake_popen(handle=0x1F4):
    return SimpleNamespace(_handle=handle, pid=1234)


def test_job_sets_the_five_limits_and_only_them(kernel32):
    winjob.Job(2 * GIB, 64, kernel32=kernel32)
    (_, job, info_class, length), = kernel32.named("SetInformationJobObject")
    assert job == BIG_HANDLE
    assert info_class == winjob.JobObjectExtendedLimitInformation == 9
    assert length == ctypes.sizeof(EXT)
    flags = kernel32.limits.BasicLimitInformation.LimitFlags
    for flag in (0x2000, 0x400, 0x8, 0x100, 0x200):  # KILL_ON_JOB_CLOSE, DIE_ON_UNHANDLED_EXCEPTION,
        assert flags & flag                           # ACTIVE_PROCESS, PROCESS_MEMORY, JOB_MEMORY
    assert flags == 0x2000 | 0x400 | 0x8 | 0x100 | 0x200  # no BREAKAWAY_OK: nothing leaves the job


def test_job_caps_memory_per_process_and_in_total(kernel32):
    winjob.Job(2 * GIB + 4096, 64, kernel32=kernel32)
    assert kernel32.limits.ProcessMemoryLimit == 2 * GIB + 4096
    assert kernel32.limits.JobMemoryLimit == 2 * GIB + 4096


def test_job_caps_active_processes(kernel32):
    winjob.Job(GIB, 7, kernel32=kernel32)
    assert kernel32.limits.BasicLimitInformation.ActiveProcessLimit == 7


def test_job_leaves_every_other_limit_off(kernel32):
    winjob.Job(GIB, 7, kernel32=kernel32)
    basic = kernel32.limits.BasicLimitInformation
    assert (basic.PerProcessUserTimeLimit, basic.PerJobUserTimeLimit, basic.MinimumWorkingSetSize,
            basic.MaximumWorkingSetSize, basic.Affinity, basic.PriorityClass, basic.SchedulingClass) == (0,) * 7


def test_job_is_anonymous_and_not_inheritable(kernel32):
    winjob.Job(GIB, 4, kernel32=kernel32)
    assert kernel32.named("CreateJobObjectW") == [("CreateJobObjectW", None, None)]


def test_assign_passes_the_popen_process_handle(kernel32):
    job = winjob.Job(GIB, 4, kernel32=kernel32)
    job.assign(fake_popen(0x1F4))
    assert kernel32.named("AssignProcessToJobObject") == [("AssignProcessToJobObject", BIG_HANDLE, 0x1F4)]


def test_assign_converts_a_handle_object_to_int(kernel32):
    class Handle(int):  # like _winapi's Handle, which Popen keeps in _handle
        pass
    job = winjob.Job(GIB, 4, kernel32=kernel32)
    job.assign(fake_popen(Handle(0x2A8)))
    (_, _, process), = kernel32.named("AssignProcessToJobObject")
    assert type(process) is int and process == 0x2A8


def test_assign_failure_raises_job_unavailable_naming_the_call(kernel32):
    kernel32.assign_ok = False
    job = winjob.Job(GIB, 4, kernel32=kernel32)
    with pytest.raises(winjob.JobUnavailable, match=r"AssignProcessToJobObject failed: \[WinError 5\]") as info:
        job.assign(fake_popen())
    assert info.value.call == "AssignProcessToJobObject" and info.value.code == 5


def test_assign_after_close_raises_job_unavailable(kernel32):
    job = winjob.Job(GIB, 4, kernel32=kernel32)
    job.close()
    with pytest.raises(winjob.JobUnavailable, match="AssignProcessToJobObject.*closed"):
        job.assign(fake_popen())
    assert kernel32.named("AssignProcessToJobObject") == []


def test_close_twice_closes_the_handle_once(kernel32):
    job = winjob.Job(GIB, 4, kernel32=kernel32)
    job.close()
    job.close()
    assert kernel32.named("CloseHandle") == [("CloseHandle", BIG_HANDLE)]


def test_kill_terminates_the_job_with_the_exit_code(kernel32):
    job = winjob.Job(GIB, 4, kernel32=kernel32)
    job.kill()
    job.kill(exit_code=137)
    assert kernel32.named("TerminateJobObject") == [("TerminateJobObject", BIG_HANDLE, 1),
                                                     ("TerminateJobObject", BIG_HANDLE, 137)]


def test_kill_after_close_does_nothing(kernel32):
    job = winjob.Job(GIB, 4, kernel32=kernel32)
    job.close()
    job.kill()
    assert kernel32.named("TerminateJobObject") == []


def test_kill_failure_raises_oserror_naming_the_call(kernel32):
    kernel32.terminate_ok = False
    job = winjob.Job(GIB, 4, kernel32=kernel32)
    with pytest.raises(OSError, match=r"TerminateJobObject failed: \[WinError 6\]"):
        job.kill()


def test_create_returning_null_raises_job_unavailable_naming_the_call(kernel32):
    for null in (None, 0):  # c_void_p gives None for NULL; a plain int prototype would give 0
        kernel32.handle = null
        with pytest.raises(winjob.JobUnavailable, match=r"CreateJobObjectW failed: \[WinError 1450\]"):
            winjob.Job(GIB, 4, kernel32=kernel32)
    assert kernel32.named("SetInformationJobObject") == [] and kernel32.named("CloseHandle") == []


def test_set_information_failure_raises_and_closes_the_handle(kernel32):
    kernel32.set_ok = False
    with pytest.raises(winjob.JobUnavailable, match="SetInformationJobObject") as info:
        winjob.Job(GIB, 4, kernel32=kernel32)
    assert kernel32.named("CloseHandle") == [("CloseHandle", BIG_HANDLE)]
    assert info.value.code == 87  # read before CloseHandle reset the last error


def test_job_unavailable_is_an_oserror_and_pickles(kernel32):
    error = winjob.JobUnavailable("CreateJobObjectW", 1450)
    assert isinstance(error, OSError)
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), copy.call, copy.code, str(copy)) == (winjob.JobUnavailable, "CreateJobObjectW", 1450, str(error))


def test_job_rejects_limits_that_would_mean_no_limit(kernel32):
    for memory, processes in ((0, 4), (-1, 4), (GIB, 0), (2 ** (8 * ctypes.sizeof(ctypes.c_size_t)), 4), (GIB, 2 ** 32)):
        with pytest.raises(ValueError):
            winjob.Job(memory, processes, kernel32=kernel32)
    assert kernel32.calls == []


def test_describe_says_the_caps(kernel32):
    assert winjob.Job(2048 * 2 ** 20, 64, kernel32=kernel32).describe() == \
        "job object: 2048 MB per process and in total, 64 processes, killed together"
    assert winjob.Job(1000, 3, kernel32=kernel32).describe() == \
        "job object: 1000 bytes per process and in total, 3 processes, killed together"


def test_declare_gives_pointer_sized_handle_prototypes():
    kernel32 = SimpleNamespace(**{name: SimpleNamespace() for name in (
        "CreateJobObjectW", "SetInformationJobObject", "AssignProcessToJobObject", "TerminateJobObject", "CloseHandle")})
    winjob._declare(kernel32)
    assert kernel32.CreateJobObjectW.restype is ctypes.c_void_p
    assert kernel32.AssignProcessToJobObject.argtypes == [ctypes.c_void_p, ctypes.c_void_p]
    assert kernel32.SetInformationJobObject.argtypes[0] is ctypes.c_void_p
    assert kernel32.SetInformationJobObject.argtypes[3] is ctypes.c_uint32
    assert kernel32.TerminateJobObject.argtypes == [ctypes.c_void_p, ctypes.c_uint32]
    assert kernel32.CloseHandle.argtypes == [ctypes.c_void_p]
    for function in vars(kernel32).values():
        assert function.restype in (ctypes.c_void_p, ctypes.c_int)


@pytest.mark.skipif(sys.platform == "win32", reason="checks the non-Windows answer")
def test_available_is_false_off_windows():
    assert winjob.available() is False


@pytest.mark.skipif(sys.platform == "win32", reason="checks the non-Windows answer")
def test_job_without_kernel32_off_windows_raises_job_unavailable():
    with pytest.raises(winjob.JobUnavailable, match="kernel32"):
        winjob.Job(GIB, 4)


# Windows (MSVC) aligns 8-byte integers to 8 in structures, on 32-bit too; i386 System V
# (32-bit Linux) aligns them to 4, so there ctypes cannot reproduce the Windows layout.
@pytest.mark.skipif(ctypes.alignment(ctypes.c_int64) != 8, reason="this ABI aligns 64-bit integers to 4 bytes")
def test_structure_sizes_and_offsets_are_the_documented_ones():
    basic, io, ext = winjob.JOBOBJECT_BASIC_LIMIT_INFORMATION, winjob.IO_COUNTERS, EXT
    if ctypes.sizeof(ctypes.c_void_p) == 8:
        sizes = (64, 48, 144)
        offsets = {"LimitFlags": 16, "ActiveProcessLimit": 40, "Affinity": 48, "SchedulingClass": 60}
        ext_offsets = {"IoInfo": 64, "ProcessMemoryLimit": 112, "JobMemoryLimit": 120, "PeakJobMemoryUsed": 136}
    else:
        sizes = (48, 48, 112)
        offsets = {"LimitFlags": 16, "ActiveProcessLimit": 28, "Affinity": 32, "SchedulingClass": 40}
        ext_offsets = {"IoInfo": 48, "ProcessMemoryLimit": 96, "JobMemoryLimit": 100, "PeakJobMemoryUsed": 108}
    assert (ctypes.sizeof(basic), ctypes.sizeof(io), ctypes.sizeof(ext)) == sizes
    assert {name: getattr(basic, name).offset for name in offsets} == offsets
    assert {name: getattr(ext, name).offset for name in ext_offsets} == ext_offsets
