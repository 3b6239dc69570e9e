"""The analysis half of the error timeline: buckets, baseline, onset, recovery.

Only minutes the logs cover take part. A window usually reaches back past the oldest line (a
file rotated an hour ago, a 6 h lookback), and a gap in logging is not a quiet minute either:
counted as zero errors, empty minutes make steady background errors look like a rise, and an
outage that silences the service would look like a recovery. A minute is covered when it holds
log records (totals known) or lies between a file's first and last record (errors only).

Two rules find a sustained rise, and the onset is the earlier of them:
- absolute: errors per minute well clear of Poisson noise around the baseline rate, for at least
  SUSTAIN of SUSTAIN+1 minutes (the only rule when totals are unknown);
- ratio (totals known): the error share over a few minutes well over the baseline share — at
  least double it and half a point more, beyond binomial noise, and still so without the
  window's two worst minutes, so a lone spike is not a rise. This is what finds a 2% failure
  at 60 requests a minute, where the absolute rule needs at least +2 errors a minute.
With totals known, an absolute rise whose error share did not move is traffic, not an incident.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from incident.models import ErrorTimeline, TimelineBucket
from incident.tools.timestamps import to_datetime

SUSTAIN = 3  # minutes: a single spike is not an onset
RECENT = 5  # minutes that make "the end of the window"
RATIO_MARGIN = 0.005  # the share must rise by at least half a percentage point
_MAX_BUCKETS = 1500


def _bucket_size(start: float, end: float, want: int) -> int:
    size = max(60, want)
    for step in (60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400):
        if step >= size and (end - start) / step <= _MAX_BUCKETS:
            return step
    return max(size, int(math.ceil((end - start) / _MAX_BUCKETS / 86400)) * 86400)


def build(
    errors: dict[int, int],
    totals: dict[int, int] | None,
    start: float | None,
    end: float | None,
    bucket_seconds: int = 60,
    spans: list[tuple[float, float]] | None = None,
) -> ErrorTimeline:
    """Bucket per-minute counts over [start, end) and find baseline, onset, recovery.

    `spans` are the (first, last) record times of each file read; with neither spans nor
    totals every bucket counts as covered."""
    if start is None or end is None or end <= start:
        return ErrorTimeline(bucket_seconds=bucket_seconds)
    size = _bucket_size(start, end, bucket_seconds)
    b0 = int(start // size) * size
    n = max(1, int(math.ceil((end - b0) / size)))
    errs = [0] * n
    tots = [0] * n
    for m, c in errors.items():
        i = int((m - b0) // size)
        if 0 <= i < n:
            errs[i] += c
    for m, c in (totals or {}).items():
        i = int((m - b0) // size)
        if 0 <= i < n:
            tots[i] += c
    per_min = size / 60
    # The last bucket may be partial (the window ends mid-minute): rates use the covered part.
    last_cover = max(1e-9, min(size, end - (b0 + (n - 1) * size))) / 60
    covers = [per_min] * (n - 1) + [last_cover]
    tl = ErrorTimeline(
        bucket_seconds=size,
        start=to_datetime(start),
        end=to_datetime(end),
        buckets=[TimelineBucket(at=to_datetime(b0 + i * size), errors=errs[i], total=tots[i]) for i in range(n)],  # type: ignore[arg-type]
    )
    known = totals is not None and any(tots)
    keep = _covered(errs, tots if known else None, spans, b0, size)
    if n > 1 and last_cover < 0.5 and keep and keep[-1] == n - 1:
        # A last bucket holding only seconds of data has a rate that is mostly noise.
        keep.pop()
    if not keep:
        return tl
    s = _Series(
        rates=[errs[i] / covers[i] for i in keep], errs=[errs[i] for i in keep],
        tots=[tots[i] for i in keep] if known else None, covers=[covers[i] for i in keep],
    )
    res = analyse(s, size)
    tl.peak_errors_per_min = res.peak
    tl.baseline_errors_per_min = res.base_rate
    tl.recent_errors_per_min = res.recent_rate
    tl.baseline_error_ratio, tl.recent_error_ratio, tl.peak_error_ratio = res.base_ratio, res.recent_ratio, res.peak_ratio
    if res.onset is not None:
        tl.onset = to_datetime(b0 + keep[res.onset] * size)
        tl.still_elevated = res.still_elevated
        if res.recovered is not None:
            tl.recovered_at = to_datetime(b0 + keep[res.recovered] * size)
    return tl


def _covered(errs: list[int], tots: list[int] | None, spans: list[tuple[float, float]] | None, b0: int, size: int) -> list[int]:
    n = len(errs)
    if tots is not None:
        return [i for i in range(n) if tots[i] > 0 or errs[i] > 0]
    if spans:
        return [i for i in range(n) if errs[i] > 0 or any(a < b0 + (i + 1) * size and b >= b0 + i * size for a, b in spans)]
    return list(range(n))


@dataclass
class _Series:
    """Covered buckets only, in order (gaps squeezed out)."""

    rates: list[float]
    errs: list[int]
    tots: list[int] | None
    covers: list[float]


@dataclass
class Analysis:
    onset: int | None = None  # indices into the covered buckets
    recovered: int | None = None
    still_elevated: bool = False
    base_rate: float = 0.0
    recent_rate: float = 0.0
    peak: float = 0.0
    base_ratio: float | None = None
    recent_ratio: float | None = None
    peak_ratio: float | None = None


def analyse(s: _Series, size: int) -> Analysis:
    n = len(s.rates)
    width = max(SUSTAIN, math.ceil(300 / size))
    out = Analysis(peak=round(max(s.rates), 3))
    base, on_abs = _abs_onset(s.rates)
    p0, on_ratio = (None, None) if s.tots is None else _ratio_onset(s.errs, s.tots, width)
    if on_abs is not None and s.tots is not None:
        # An absolute rise with an unchanged error share is more traffic, not more failure.
        before = _pooled(s.errs[:on_abs], s.tots[:on_abs]) if on_abs >= SUSTAIN else p0
        share = _pooled(s.errs[on_abs : on_abs + width], s.tots[on_abs : on_abs + width])
        if before is not None and share is not None and share < _calm(before):
            on_abs = None
    onset = min((i for i in (on_abs, on_ratio) if i is not None), default=None)
    if onset is not None and onset >= SUSTAIN:
        base = _median(s.rates[:onset])
        if s.tots is not None:
            p0 = _pooled(s.errs[:onset], s.tots[:onset])
    k = min(RECENT * 60 // size or 1, n)
    out.base_rate = round(base, 3)
    out.recent_rate = round(sum(s.errs[-k:]) / sum(s.covers[-k:]), 3)
    if s.tots is not None:
        pre = slice(0, onset) if onset else slice(0, n)
        out.base_ratio = _round(_pooled(s.errs[pre], s.tots[pre]))
        out.recent_ratio = _round(_pooled(s.errs[-k:], s.tots[-k:]))
        ratios = [e / t for e, t in zip(s.errs, s.tots, strict=True) if t >= 10]
        out.peak_ratio = round(max(ratios), 4) if ratios else None
    if onset is None:
        return out
    out.onset = onset
    _recovery(out, s, onset, base if on_abs is not None else None, p0 if on_ratio is not None else None, width)
    return out


def _recovery(out: Analysis, s: _Series, onset: int, base: float | None, p0: float | None, width: int) -> None:
    """Recovered at the first bucket after which neither rule that found the rise fires again,
    when at least SUSTAIN buckets follow and they average back near the baseline."""
    n = len(s.rates)
    last = onset
    if base is not None:
        high = _threshold(base)
        last = max(last, max((i for i in range(onset, n) if s.rates[i] >= high), default=onset))
    if p0 is not None and s.tots is not None:
        last = max(last, _ratio_last_high(s.errs, s.tots, onset, p0, width))
    first = last + 1
    calm_tail = n - first >= SUSTAIN
    if calm_tail and base is not None:
        tail = s.rates[first:]
        calm_tail = sum(tail) / len(tail) <= _calm_rate(base)
    if calm_tail and p0 is not None and s.tots is not None:
        share = _pooled(s.errs[first:], s.tots[first:])
        calm_tail = share is None or share <= _calm(p0)
    if calm_tail:
        out.recovered = first
        return
    elevated = base is not None and out.recent_rate > _calm_rate(base)
    if p0 is not None and out.recent_ratio is not None:
        elevated = elevated or out.recent_ratio > _calm(p0)
    out.still_elevated = elevated


# ---------------------------------------------------------------- absolute rule


def _threshold(base: float) -> float:
    # Well clear of Poisson noise around the baseline, and at least double it.
    return max(base * 2.0, base + 3.0 * math.sqrt(max(base, 1.0)), base + 2.0)


def _calm_rate(base: float) -> float:
    return base + (_threshold(base) - base) / 2


def _abs_onset(rates: list[float]) -> tuple[float, int | None]:
    """(baseline rate, onset index): the window's median, unless the incident fills most of it;
    then its quietest tenth, for a rise that holds for most of the rest of the window."""
    n = len(rates)
    ordered = sorted(rates)
    base = _median(ordered)
    onset_i = _onset(rates, _threshold(base))
    if onset_i is None and ordered:
        low = ordered[len(ordered) // 10]
        i = _onset(rates, _threshold(low))
        if i is not None and n - i >= n // 2 and _median(rates[i:]) >= _threshold(low):
            base, onset_i = low, i
    if onset_i is not None and onset_i >= SUSTAIN:
        # The baseline is what came before the rise.
        base = _median(rates[:onset_i])
        again = _onset(rates, _threshold(base))
        onset_i = again if again is not None else onset_i
    return base, onset_i


def _onset(rates: list[float], high: float) -> int | None:
    """First index that opens a sustained rise over `high`: it and at least SUSTAIN-1 of the next
    SUSTAIN buckets are high (one dip is tolerated, a lone spike is not). Near the end of the
    window, every remaining bucket must be high, and there must be at least two."""
    n = len(rates)
    for i, r in enumerate(rates):
        if r < high:
            continue
        run = rates[i : i + SUSTAIN + 1]
        hits = sum(1 for x in run if x >= high)
        if len(run) == SUSTAIN + 1 and hits >= SUSTAIN:
            return i
        if len(run) <= SUSTAIN and len(run) >= 2 and hits == len(run) and i + len(run) == n:
            return i
    return None


# ---------------------------------------------------------------- ratio rule


def _ratio_threshold(p0: float) -> float:
    return max(2.0 * p0, p0 + RATIO_MARGIN)


def _calm(p0: float) -> float:
    return p0 + (_ratio_threshold(p0) - p0) / 2


def _significant(e: int, t: int, p0: float, z: float) -> bool:
    if t <= 0 or e / t < _ratio_threshold(p0):
        return False
    return e - t * p0 >= z * math.sqrt(max(t * p0 * (1.0 - p0), 1.0))


def _ratio_window(errs: list[int], tots: list[int], i: int, p0: float, width: int) -> bool:
    """Does a sustained rise in the error share start at bucket i?"""
    n = len(errs)
    if tots[i] <= 0 or errs[i] == 0 or errs[i] / tots[i] < _ratio_threshold(p0):
        return False
    es, ts = errs[i : i + width], tots[i : i + width]
    if len(es) < width:
        # The end of the window: every remaining bucket elevated, at least two of them.
        thr = _ratio_threshold(p0)
        return len(es) >= 2 and i + len(es) == n and all(t > 0 and e / t >= thr for e, t in zip(es, ts, strict=True)) \
            and _significant(sum(es), sum(ts), p0, 3.0)
    if not _significant(sum(es), sum(ts), p0, 3.0):
        return False
    # Sustained: without its SUSTAIN-1 worst buckets the rest of the window is still elevated.
    rest = sorted(range(len(es)), key=lambda k: es[k] - ts[k] * p0)[: len(es) - (SUSTAIN - 1)]
    e_rest, t_rest = sum(es[k] for k in rest), sum(ts[k] for k in rest)
    return e_rest >= 2 and _significant(e_rest, t_rest, p0, 1.0)


def _first_window(errs: list[int], tots: list[int], p0: float, width: int, start: int = 0) -> int | None:
    return next((i for i in range(start, len(errs)) if _ratio_window(errs, tots, i, p0, width)), None)


def _refine(errs: list[int], tots: list[int], found: int, p0: float, width: int) -> int:
    """Where the rise found at `found` really began. Sparse errors can leave its first minutes
    below the window test, so walk back while the buckets fit the raised share better than the
    baseline (a CUSUM run backwards); a lone background error just before it is pulled in only
    when it fits, and never past a run of quiet minutes."""
    end = min(len(errs), found + 2 * width)
    p1 = max(_pooled(errs[found:end], tots[found:end]) or 0.0, _ratio_threshold(p0))
    q0 = max(p0, p1 / 20)
    gain_err, gain_rec = math.log(p1 / q0), p1 - q0
    best, acc, onset = 0.0, 0.0, found
    for j in range(found - 1, max(-1, found - 3 * width - 1), -1):
        acc += errs[j] * gain_err - tots[j] * gain_rec
        if acc > best:
            best, onset = acc, j
    return onset


def _ratio_onset(errs: list[int], tots: list[int], width: int) -> tuple[float | None, int | None]:
    """(baseline share, onset index) by the ratio rule."""
    n = len(errs)
    p0 = _pooled(errs, tots)
    if p0 is None:
        return None, None
    found = _first_window(errs, tots, p0, width)
    if found is None:
        # The incident may fill most of the window: a split whose before is quiet and whose
        # after holds the rise for the rest of the window.
        for i in range(SUSTAIN, n - n // 2 + 1):
            before, after = _pooled(errs[:i], tots[:i]), _pooled(errs[i:], tots[i:])
            if before is not None and after is not None and after >= _ratio_threshold(before) \
                    and _ratio_window(errs, tots, i, before, width):
                p0, found = before, i
                break
    if found is None:
        return p0, None
    onset = _refine(errs, tots, found, p0, width)
    if onset >= SUSTAIN:
        # The baseline is what came before the rise; look again with it.
        p0 = _pooled(errs[:onset], tots[:onset]) or 0.0
        again = _first_window(errs, tots, p0, width)
        if again is not None:
            onset = _refine(errs, tots, again, p0, width)
    return p0, onset


def _ratio_last_high(errs: list[int], tots: list[int], onset: int, p0: float, width: int) -> int:
    """The last elevated bucket of the last window (from the onset on) where the rise holds."""
    thr = _ratio_threshold(p0)
    for i in range(len(errs) - 1, onset - 1, -1):
        if _ratio_window(errs, tots, i, p0, width):
            hi = [j for j in range(i, min(len(errs), i + width)) if tots[j] > 0 and errs[j] / tots[j] >= thr]
            return max(hi, default=i)
    return onset


# ---------------------------------------------------------------- helpers


def _pooled(errs: list[int], tots: list[int]) -> float | None:
    t = sum(tots)
    return sum(errs) / t if t else None


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def _median(xs: list[float]) -> float:
    if not xs:
        return 0.0
    s = sorted(xs)
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2
