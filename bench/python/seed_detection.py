#!/usr/bin/env python3
"""Stdlib-only port of the seed's gap detection, timed on the fleet input that
bench/core-fleet.bench.mjs writes. Usage: seed_detection.py INPUT.json [repeats]

The seed (SmartBackfillMixin._detect_missing_history + _query_missing_dates)
computes the window with strptime/timedelta and leaves the rest to SQL:
SELECT DISTINCT expected dates BETWEEN start AND end, dates HAVING
record_count >= MIN_RECORDS_PER_DATE, LEFT JOIN ... IS NULL, ORDER BY date,
then a list comprehension for critical dates. This is that, in Python, with
one change so the outputs can be compared with ours: the window ends the day
before the run date (the seed's ended on the run date itself).

Prints one JSON line: {"checks", "seconds", "checks_per_sec", "cpu_seconds",
"cpu_checks_per_sec", "missing_total", "critical_total", "python"} (best of the repeats).
"""
import json
import sys
import time
from datetime import datetime, timedelta


def detect(current_date, expected, counts, lookback, critical_days, min_records):
    cur = datetime.strptime(current_date, '%Y-%m-%d')
    window_start = (cur - timedelta(days=lookback)).strftime('%Y-%m-%d')
    window_end = (cur - timedelta(days=1)).strftime('%Y-%m-%d')
    critical_start = (cur - timedelta(days=critical_days)).strftime('%Y-%m-%d')
    # expected_dates CTE: DISTINCT, BETWEEN (ISO strings compare like dates), ORDER BY
    expected_in_window = sorted({d for d in expected if window_start <= d <= window_end})
    # actual_dates CTE + LEFT JOIN ... IS NULL: a date is missing unless it has >= MIN rows
    missing = [d for d in expected_in_window if counts.get(d, 0) < min_records]
    critical_missing = [d for d in missing if d >= critical_start]
    return {
        'has_gaps': len(missing) > 0,
        'missing_dates': missing,
        'gap_size': len(missing),
        'critical_missing': critical_missing,
        'critical_gap_size': len(critical_missing),
        'window_start': window_start,
        'window_end': window_end,
    }


def main():
    path = sys.argv[1]
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with open(path) as f:
        data = json.load(f)
    as_of = data['asOf']
    lookback = data['policy']['lookbackDays']
    critical = data['policy']['criticalLookbackDays']
    min_records = data['policy']['minRecordsPerDate']
    fleet = data['processors']
    checks = data['checks']

    best = best_cpu = float('inf')
    missing_total = critical_total = 0
    for _ in range(repeats):
        c0 = time.process_time()
        t0 = time.perf_counter()
        m = c = 0
        for p in fleet:
            r = detect(as_of, p['expected'], p['counts'], lookback, critical, min_records)
            m += r['gap_size']
            c += r['critical_gap_size']
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
        missing_total, critical_total = m, c
    print(json.dumps({
        'checks': checks,
        'seconds': best,
        'checks_per_sec': checks / best,
        'cpu_seconds': best_cpu,
        'cpu_checks_per_sec': checks / best_cpu,
        'missing_total': missing_total,
        'critical_total': critical_total,
        'python': sys.version.split()[0],
    }))


if __name__ == '__main__':
    main()
