"""CPU and memory of every platform process while a load runs (psutil), to name the bottleneck."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

import psutil


@dataclass(frozen=True, slots=True)
class Sample:
    """One process at one moment: CPU in percent of one core, resident memory in MiB.
    `cores`: how many cores it can use (its worker processes; one for a single process)."""

    at: float
    name: str
    cpu_percent: float
    rss_mib: float
    cores: int = 1


class ProcessSampler:
    """Samples named processes (and their children) every `interval` seconds in a thread."""

    def __init__(self, pids: Mapping[str, int], interval: float = 1.0) -> None:
        self.interval = interval
        self.samples: list[Sample] = []
        self._processes: dict[str, list[psutil.Process]] = {}
        for name, pid in pids.items():
            try:
                root = psutil.Process(pid)
                self._processes[name] = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="process-sampler", daemon=True)

    def __enter__(self) -> ProcessSampler:
        for processes in self._processes.values():
            for process in processes:
                _cpu(process)  # the first reading only starts psutil's clock
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            now = time.time()
            for name, processes in self._processes.items():
                cpu = sum(_cpu(process) for process in processes)
                rss = sum(_rss(process) for process in processes)
                # A supervisor of N workers (cnop_common/workers.py) can use N cores.
                cores = max(1, len(processes) - 1)
                self.samples.append(Sample(now, name, cpu, rss / 2**20, cores))


def _cpu(process: psutil.Process) -> float:
    try:
        return float(process.cpu_percent(None))
    except psutil.Error:
        return 0.0


def _rss(process: psutil.Process) -> float:
    try:
        return float(process.memory_info().rss)
    except psutil.Error:
        return 0.0


@dataclass(frozen=True, slots=True)
class Usage:
    """A process over a span of time: mean and peak CPU, peak memory, cores it can use."""

    name: str
    mean_cpu: float
    peak_cpu: float
    peak_rss_mib: float
    cores: int = 1


# A Python service process runs its requests on one core: near 100 % of a core it is
# saturated; a service of N worker processes, near N cores.
SATURATED_CPU_PERCENT = 85.0


def usage_between(samples: list[Sample], start: float, end: float) -> dict[str, Usage]:
    """Usage of each process over [start, end)."""
    by_name: dict[str, list[Sample]] = {}
    for sample in samples:
        if start <= sample.at < end:
            by_name.setdefault(sample.name, []).append(sample)
    return {
        name: Usage(
            name,
            sum(s.cpu_percent for s in taken) / len(taken),
            max(s.cpu_percent for s in taken),
            max(s.rss_mib for s in taken),
            max(s.cores for s in taken),
        )
        for name, taken in by_name.items()
    }


@dataclass(frozen=True, slots=True)
class Saturation:
    """Which process ran out of CPU first, by the stated measure, or which was busiest."""

    name: str
    share: float  # mean CPU over the span, as % of the cores the process can use
    cores: int
    span: int  # index of the span (step) where it was found
    saturated: bool

    def describe(self, spans: list[str] | None = None) -> str:
        """One line naming the measure: what 'saturated' means here."""
        where = f" in {spans[self.span]}" if spans else ""
        cores = f"{self.cores} core{'s' if self.cores != 1 else ''}"
        rule = f"saturated = mean CPU ≥ {SATURATED_CPU_PERCENT:.0f} % of the cores it can use"
        if self.saturated:
            share = f"{self.share:.0f} % of its {cores}{where}"
            return f"saturated first: {self.name} ({share}; {rule})"
        return (
            f"no process saturated ({rule}); busiest: {self.name}"
            f" at {self.share:.0f} % of its {cores}{where}"
        )


def first_saturated(spans: list[dict[str, Usage]]) -> Saturation | None:
    """The process that saturates first across rising spans; else the busiest in the last one."""
    for index, span in enumerate(spans):
        busy = [u for u in span.values() if u.mean_cpu >= SATURATED_CPU_PERCENT * u.cores]
        if busy:
            top = max(busy, key=lambda u: u.mean_cpu / u.cores)
            return Saturation(top.name, top.mean_cpu / top.cores, top.cores, index, True)
    if spans and spans[-1]:
        top = max(spans[-1].values(), key=lambda u: u.mean_cpu / u.cores)
        return Saturation(top.name, top.mean_cpu / top.cores, top.cores, len(spans) - 1, False)
    return None
