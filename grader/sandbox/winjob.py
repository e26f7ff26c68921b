"""One Windows Job Object per worker: the Windows counterpart of grader/sandbox/cgroups.py.

On Windows a worker is a `subprocess.Popen`; rlimits and cgroups do not exist there. A job
object caps the worker and every process it starts, together:

- committed memory per process (JOB_OBJECT_LIMIT_PROCESS_MEMORY) and for the whole job
  (JOB_OBJECT_LIMIT_JOB_MEMORY): an allocation past the cap fails, so NumPy raises MemoryError;
- the number of processes alive at once (JOB_OBJECT_LIMIT_ACTIVE_PROCESS): no fork bomb;
- no Windows Error Reporting dialog on a crash (JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION):
  the process dies with the exception code as its exit status instead of waiting for a click;
- closing the job's last handle kills what is left in it (JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE),
  and `Job.kill` ends them all at once (TerminateJobObject).

Usage (the portable backend): create the Job, start the worker, `assign` it *before* sending
it the student's code (a process is only counted from its assignment on: children it started
earlier, and memory it committed earlier, escape the job), then `kill`/`close` when done.

Structures and flags follow Microsoft's documentation:
https://learn.microsoft.com/en-us/windows/win32/api/winnt/ns-winnt-jobobject_extended_limit_information
(and ns-winnt-jobobject_basic_limit_information, nf-jobapi2-setinformationjobobject).

Importable everywhere: kernel32 is only looked up inside functions, and only on Windows.
"""
from __future__ import annotations

import ctypes
import sys

# Fixed-width ctypes types rather than ctypes.wintypes: on LP64 systems (Linux, macOS)
# wintypes.DWORD is c_ulong, 8 bytes, which would give these structures a layout Windows
# never has; the sizes are checked on every platform by tests/test_winjob.py.
DWORD = ctypes.c_uint32
BOOL = ctypes.c_int
UINT = ctypes.c_uint32
LARGE_INTEGER = ctypes.c_int64  # a union whose QuadPart is a LONGLONG: same size and alignment
ULONGLONG = ctypes.c_uint64
SIZE_T = ctypes.c_size_t
ULONG_PTR = ctypes.c_size_t  # unsigned and pointer-sized, like SIZE_T
HANDLE = ctypes.c_void_p  # pointer-sized: ctypes' default int result would truncate 64-bit handles
LPVOID = ctypes.c_void_p

# LimitFlags (winnt.h)
JOB_OBJECT_LIMIT_ACTIVE_PROCESS = 0x00000008
JOB_OBJECT_LIMIT_PROCESS_MEMORY = 0x00000100
JOB_OBJECT_LIMIT_JOB_MEMORY = 0x00000200
JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION = 0x00000400
JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x00002000

# Exactly these: no BREAKAWAY_OK / SILENT_BREAKAWAY_OK, so no process can leave the job.
LIMIT_FLAGS = (JOB_OBJECT_LIMIT_ACTIVE_PROCESS | JOB_OBJECT_LIMIT_PROCESS_MEMORY
               | JOB_OBJECT_LIMIT_JOB_MEMORY | JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION
               | JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE)

# JOBOBJECTINFOCLASS: the memory limits, DIE_ON_UNHANDLED_EXCEPTION and KILL_ON_JOB_CLOSE are
# extended limits, which the basic class (2) does not accept.
JobObjectExtendedLimitInformation = 9


class JOBOBJECT_BASIC_LIMIT_INFORMATION(ctypes.Structure):
    _fields_ = [
        ("PerProcessUserTimeLimit", LARGE_INTEGER),
        ("PerJobUserTimeLimit", LARGE_INTEGER),
        ("LimitFlags", DWORD),
        ("MinimumWorkingSetSize", SIZE_T),
        ("MaximumWorkingSetSize", SIZE_T),
        ("ActiveProcessLimit", DWORD),
        ("Affinity", ULONG_PTR),
        ("PriorityClass", DWORD),
        ("SchedulingClass", DWORD),
    ]


class IO_COUNTERS(ctypes.Structure):
    _fields_ = [
        ("ReadOperationCount", ULONGLONG),
        ("WriteOperationCount", ULONGLONG),
        ("OtherOperationCount", ULONGLONG),
        ("ReadTransferCount", ULONGLONG),
        ("WriteTransferCount", ULONGLONG),
        ("OtherTransferCount", ULONGLONG),
    ]


class JOBOBJECT_EXTENDED_LIMIT_INFORMATION(ctypes.Structure):
    _fields_ = [
        ("BasicLimitInformation", JOBOBJECT_BASIC_LIMIT_INFORMATION),
        ("IoInfo", IO_COUNTERS),
        ("ProcessMemoryLimit", SIZE_T),
        ("JobMemoryLimit", SIZE_T),
        ("PeakProcessMemoryUsed", SIZE_T),
        ("PeakJobMemoryUsed", SIZE_T),
    ]


class JobUnavailable(OSError):
    """The job could not be created, configured or assigned: the worker is not confined by it.
    The message names the Windows call and its error."""

    def __init__(self, call: str, winerror: int | None = None, detail: str | None = None):
        self.call = call  # e.g. "CreateJobObjectW"
        self.code = winerror  # GetLastError, when the call failed on Windows
        self._detail = detail
        super().__init__(_message(call, winerror, detail))

    def __reduce__(self):  # pickles (a worker pool may) with the arguments above, not the text
        return type(self), (self.call, self.code, self._detail)


def _message(call: str, winerror: int | None, detail: str | None) -> str:
    code = f"[WinError {winerror}]" if winerror is not None else ""
    text = detail if detail is not None else _format_error(winerror)
    details = " ".join(part for part in (code, text) if part)
    return f"{call} failed: {details}" if details else f"{call} failed"


def _format_error(winerror: int | None) -> str:
    format_error = getattr(ctypes, "FormatError", None)  # Windows only
    if winerror is None or format_error is None:
        return ""
    try:
        return format_error(winerror).strip()
    except (OSError, ValueError):
        return ""


def _last_error() -> int:
    """GetLastError as saved by ctypes right after the call (use_last_error=True): reading it
    later through kernel32 would see whatever Python's own calls left there."""
    get_last_error = getattr(ctypes, "get_last_error", None)  # Windows only
    return get_last_error() if get_last_error is not None else 0


def _declare(kernel32) -> None:
    """Prototypes, so ctypes passes and returns pointer-sized handles intact."""
    signatures = {
        "CreateJobObjectW": ([LPVOID, ctypes.c_wchar_p], HANDLE),  # LPSECURITY_ATTRIBUTES, LPCWSTR
        "SetInformationJobObject": ([HANDLE, ctypes.c_int, LPVOID, DWORD], BOOL),
        "AssignProcessToJobObject": ([HANDLE, HANDLE], BOOL),
        "TerminateJobObject": ([HANDLE, UINT], BOOL),
        "CloseHandle": ([HANDLE], BOOL),
    }
    for name, (argtypes, restype) in signatures.items():
        function = getattr(kernel32, name)
        function.argtypes = argtypes
        function.restype = restype


_KERNEL32 = None


def _kernel32():
    """Our own WinDLL instance (not ctypes.windll.kernel32, whose prototypes other code may set
    differently), loaded on first use."""
    global _KERNEL32
    if _KERNEL32 is None:
        if sys.platform != "win32":
            raise JobUnavailable("WinDLL('kernel32')", detail="job objects exist only on Windows")
        try:
            kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
            _declare(kernel32)
        except (OSError, AttributeError) as exc:
            raise JobUnavailable("WinDLL('kernel32')", detail=str(exc)) from exc
        _KERNEL32 = kernel32
    return _KERNEL32


def available() -> bool:
    """True on Windows when kernel32 has the job functions."""
    if sys.platform != "win32":
        return False
    try:
        _kernel32()
    except JobUnavailable:
        return False
    return True


def _limits(memory_bytes: int, processes: int) -> JOBOBJECT_EXTENDED_LIMIT_INFORMATION:
    info = JOBOBJECT_EXTENDED_LIMIT_INFORMATION()  # zeroed: every other limit stays off
    info.BasicLimitInformation.LimitFlags = LIMIT_FLAGS
    info.BasicLimitInformation.ActiveProcessLimit = processes
    info.ProcessMemoryLimit = memory_bytes
    info.JobMemoryLimit = memory_bytes
    return info


class Job:
    """A job object capping a worker and its descendants; `kernel32` is injectable for tests."""

    def __init__(self, memory_bytes: int, processes: int, kernel32=None):
        memory_bytes, processes = int(memory_bytes), int(processes)
        if not 0 < memory_bytes < 2 ** (8 * ctypes.sizeof(SIZE_T)):
            raise ValueError(f"memory_bytes must be positive and fit a SIZE_T: {memory_bytes}")
        if not 0 < processes < 2 ** 32:
            raise ValueError(f"processes must be positive and fit a DWORD: {processes}")
        self.memory_bytes = memory_bytes
        self.processes = processes
        self._kernel32 = kernel32 if kernel32 is not None else _kernel32()
        self._handle = None
        # No security attributes: the handle is not inheritable, so the worker cannot hold the
        # job open (or close it) itself. No name: nobody else can open it.
        handle = self._kernel32.CreateJobObjectW(None, None)
        if not handle:  # NULL comes back as None from a c_void_p result
            raise JobUnavailable("CreateJobObjectW", _last_error())
        self._handle = handle
        info = _limits(memory_bytes, processes)
        if not self._kernel32.SetInformationJobObject(
                handle, JobObjectExtendedLimitInformation, ctypes.pointer(info), ctypes.sizeof(info)):
            code = _last_error()  # before CloseHandle overwrites it
            self.close()
            raise JobUnavailable("SetInformationJobObject", code)

    def assign(self, process) -> None:
        """Put a started worker (Popen keeps its process handle in `_handle` on Windows) into
        the job. On failure the process is left running, unconfined: the caller decides."""
        if self._handle is None:
            raise JobUnavailable("AssignProcessToJobObject", detail="the job is already closed")
        if not self._kernel32.AssignProcessToJobObject(self._handle, int(process._handle)):
            raise JobUnavailable("AssignProcessToJobObject", _last_error())

    def kill(self, exit_code: int = 1) -> None:
        """End every process in the job now. Nothing to do once the job is closed (closing it
        already killed them)."""
        if self._handle is None:
            return
        if not self._kernel32.TerminateJobObject(self._handle, exit_code):
            code = _last_error()
            raise OSError(_message("TerminateJobObject", code, None))

    def close(self) -> None:
        """Close the handle; with KILL_ON_JOB_CLOSE this kills whatever is still in the job."""
        handle, self._handle = self._handle, None  # forget it first: never closed twice
        if handle is not None:
            self._kernel32.CloseHandle(handle)

    def describe(self) -> str:
        """For the grader's "isolation" record."""
        mib = 2 ** 20
        whole = self.memory_bytes % mib == 0
        memory = f"{self.memory_bytes // mib} MB" if whole else f"{self.memory_bytes} bytes"
        return f"job object: {memory} per process and in total, {self.processes} processes, killed together"
