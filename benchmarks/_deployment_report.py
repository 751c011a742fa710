"""The markdown of ``benchmarks.airflow_deployment``: each row beside the floors measured at the
same N, with the ratios and the goal of issue 20's table."""

from __future__ import annotations

import statistics
from typing import Any

FLOOR = "floor_quiet"


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _ratio(ours: float | None, floor: float | None) -> str:
    if ours is None or not floor:
        return ""
    return f" ({ours / floor:.2f}x)"


def _stall(row: dict[str, Any]) -> float:
    if "stall_s" in row:  # a median of runs: the median of each run's longest
        stall: float = row["stall_s"]
        return stall
    return max(
        row.get("start", {}).get("longest_stall_s", 0.0),
        row.get("end", {}).get("longest_stall_s", 0.0),
    )


def stalls_in(stalls: Any, since: float, until: float) -> list[float]:
    """The lags of the probe's stalls (``[woke, lag]``, wall time) overlapping [since, until]."""
    return [
        float(lag) for woke, lag in stalls or () if woke >= since and woke - lag - 0.05 <= until
    ]


def held(row: dict[str, Any], part: dict[str, Any]) -> float:
    """Seconds the loop was held in the phase: every stall of the probe's timeline (each over
    its 0.2 s threshold) overlapping it, summed. Less a matter of luck than the longest one: a
    single stall is long or short by whether Airflow's once-a-minute status line or a full
    collection happened to fall inside a burst of persisting events."""
    return round(sum(stalls_in(row.get("stalls"), part["began"], part["ended"])), 1)


def end_after_seen(row: dict[str, Any]) -> float:
    """The end phase a goal compares: for waits that poll, from moto's first describe after the
    release (when their poll first asked; up to one poll interval after the release, wherever
    the ticks fall, a setting of the user's); the floors see their release within 0.1 s."""
    seconds: float = row["end"]["seconds"]
    return round(max(0.0, seconds - (row.get("seen_s") or 0.0)), 1)


def _end(row: dict[str, Any], floor_end: float | None) -> str:
    seconds = row["end"]["seconds"]
    if row.get("seen_s") is None:
        return f"{_fmt(seconds)}{_ratio(seconds, floor_end)}"
    after = end_after_seen(row)
    return (
        f"{_fmt(seconds)}{_ratio(seconds, floor_end)}; first poll +{_fmt(row['seen_s'])},"
        f" from it {_fmt(after)}{_ratio(after, floor_end)}"
    )


def _left(row: dict[str, Any]) -> str:
    """The full collection the lag probe timed once the row had ended: seconds (objects freed)."""
    left = (row.get("lag_probe") or {}).get("gc_left")
    if not left:
        return "-"
    return f"{_fmt(left[0], 2)} ({left[1]:,})"


def _succeeded(row: dict[str, Any]) -> bool:
    states = row.get("task_states", {})
    return set(states) == {"success"} and sum(states.values()) == row["waits"] * row.get("waves", 1)


#: A triggerer's connection look-up (once per connection and triggerer, not per wait) and the
#: secrets it asks the supervisor to mask.
CONNECTION_REQUESTS = ("GetConnection", "MaskSecret")


def goal(row: dict[str, Any], floor: dict[str, Any] | None) -> tuple[str, list[str]]:
    """The goal of the issue's table for this row, and what misses it (empty: met)."""
    kind, n = row["approach"], row["waits"]
    missed: list[str] = []
    if "error" in row:
        return "-", ["did not finish"]
    if kind == "failover":
        text = (
            "all succeed in the survivor; nothing started twice; deadlines kept; 0 round trips per"
            " moved wait (the survivor's one connection look-up aside)"
        )
        if not _succeeded(row):
            missed.append("not all succeeded")
        if row.get("max_try_number", 1) > 1 or row.get("worker_slots") or row.get("inserted_twice"):
            missed.append("started twice")
        if row.get("deadlines_changed"):
            missed.append(f"{row['deadlines_changed']} deadlines changed")
        per_wait = {
            kind: count
            for kind, count in row.get("failover", {}).get("requests", {}).items()
            if kind not in CONNECTION_REQUESTS
        }
        if per_wait:
            missed.append(f"round trips for the moved waits: {per_wait}")
        return text, missed
    if kind == "longlived_floor":
        return "(reference)", []
    if kind == "longlived":
        text = "RSS after the last wave within 5 % of after the first; per-wave phases flat"
        if not _succeeded(row):
            missed.append("not all succeeded")
        waves = row.get("per_wave", [])
        # Flat: the last wave's phases within 25 % of the second's (the first warms up).
        if len(waves) >= 3:
            second = waves[1]["start_s"] + waves[1]["end_s"]
            last = waves[-1]["start_s"] + waves[-1]["end_s"]
            if second and last > 1.25 * second:
                missed.append(f"phases grew {last / second:.2f}x from wave 2 to the last")
        growth = row.get("rss_growth_pct")
        if growth is None or abs(growth) > 5:
            missed.append(f"RSS {growth:+.1f} %" if growth is not None else "no RSS")
        return text, missed
    if kind.startswith(("floor", "provider")):
        return "(reference)", []
    if not _succeeded(row):
        missed.append("not all succeeded")
    if floor is None:
        return "(no quiet floor at this N)", missed
    if n >= 10000:
        # Paced completions: the end phase. Creating thousands of triggers at once holds the
        # runner too (Airflow's own, floors included); the table shows both phases.
        text = (
            "all succeed; no 'appears deadlocked', no skipped heartbeat while they end (paced);"
            " end ≤ 1.1x floor's"
        )
        end = row["end"]
        skipped = end["heartbeats_skipped"]
        deadlocked = end.get("deadlocked", row.get("deadlocked"))
        if deadlocked or skipped:
            missed.append(
                f"end phase: {deadlocked} 'appears deadlocked', {skipped} skipped heartbeats"
            )
        if end_after_seen(row) > 1.1 * floor["end"]["seconds"]:
            missed.append("end phase")
        return text, missed
    text = "start ≤ 1.2x, end ≤ 1.1x floor's; stall ≤ floor's; 0 unknown frames; ≤ 2 own INFO lines/wait"
    if row["start"]["seconds"] > 1.2 * floor["start"]["seconds"]:
        missed.append("start phase")
    if end_after_seen(row) > 1.1 * floor["end"]["seconds"]:
        missed.append("end phase")
    if _stall(row) > _stall(floor):
        missed.append("longest stall")
    if row.get("unknown_frames"):
        missed.append(f"{row['unknown_frames']} unknown frames")
    info = row.get("trigger_logs", {}).get("own_info_per_wait")
    if info is not None and info > 2:
        missed.append(f"{info} own INFO lines per wait")
    return text, missed


def groups(rows: list[dict[str, Any]]) -> dict[tuple[str, int], list[dict[str, Any]]]:
    """The finished runs of each (approach, N) that the ratio goals compare, in run order."""
    found: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for row in rows:
        if "error" not in row and row["approach"] in ("async_hooks", FLOOR):
            found.setdefault((row["approach"], row["waits"]), []).append(row)
    return found


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One row standing for several runs of a row, each measure the median of the runs' (the
    end phase from the first poll, as the goal compares it); all must have succeeded."""
    first = runs[0]
    ok = all(_succeeded(run) for run in runs)
    return {
        "approach": first["approach"],
        "label": first["label"],
        "waits": first["waits"],
        "runs": len(runs),
        "task_states": {"success": first["waits"]} if ok else {"not all succeeded": len(runs)},
        "seen_s": None,
        "start": {"seconds": statistics.median(r["start"]["seconds"] for r in runs)},
        "end": {
            "seconds": statistics.median(end_after_seen(r) for r in runs),
            "heartbeats_skipped": max(r["end"]["heartbeats_skipped"] for r in runs),
            "deadlocked": max(r["end"].get("deadlocked") or 0 for r in runs),
        },
        "stall_s": statistics.median(_stall(r) for r in runs),
        "unknown_frames": max(r.get("unknown_frames", 0) for r in runs),
        "trigger_logs": {
            "own_info_per_wait": max(
                r.get("trigger_logs", {}).get("own_info_per_wait") or 0.0 for r in runs
            )
        },
    }


def _medians(rows: list[dict[str, Any]]) -> list[str]:
    """The table of the repeated pairs, judged on their medians."""
    found = groups(rows)
    repeated = sorted(
        n for (kind, n), runs in found.items() if kind == "async_hooks" and len(runs) > 1
    )
    if not repeated:
        return []
    lines = [
        "",
        "**Judged on medians** (each pair run several times, interleaved: one pair's ratios move"
        " by 0.1-0.2x from run to run on two shared cores, more than the goals' margins; each"
        " run is in the table above):",
        "",
        "| Waits | Runs, ours / floor's | Start s, ours vs floor | End s from the first poll, ours"
        " vs floor | Longest stall s, ours / floor's | Goal | Met |",
        "| ---: | --- | ---: | ---: | ---: | --- | --- |",
    ]
    for n in repeated:
        ours = median_of(found[("async_hooks", n)])
        floors = found.get((FLOOR, n))
        floor = median_of(floors) if floors else None
        text, missed = goal(ours, floor)
        met = "yes" if not missed else "no: " + "; ".join(missed)
        fs = floor["start"]["seconds"] if floor else None
        fe = floor["end"]["seconds"] if floor else None
        lines.append(
            f"| {n:,} | {ours['runs']} / {floor['runs'] if floor else 0}"
            f" | {_fmt(ours['start']['seconds'])} vs {_fmt(fs)}{_ratio(ours['start']['seconds'], fs)}"
            f" | {_fmt(ours['end']['seconds'])} vs {_fmt(fe)}{_ratio(ours['end']['seconds'], fe)}"
            f" | {_fmt(ours['stall_s'], 2)} / {_fmt(floor['stall_s'] if floor else None, 2)}"
            f" | {text} | {met} |"
        )
    return lines


def _requests(part: dict[str, Any]) -> str:
    per = part.get("requests_per_wait") or {}
    return ", ".join(f"{k} {v:g}" for k, v in sorted(per.items())) or "0"


def _batches(part: dict[str, Any]) -> str:
    he = part.get("handle_events", {})
    return (
        f"{he.get('batches', 0)} → {_fmt(he.get('seconds'))} s ({_fmt(he.get('ms_per_event'))} ms)"
    )


def _moto_priority(meta: dict[str, Any]) -> str:
    """How moto ran beside the deployment: a merge lists each niceness its runs had; a run
    that niced only moto's threads (before 2026-12-07) ran it at the normal priority. Then
    how it answered ``GetJobRuns`` (moto's serializer before 2026-12-07)."""
    found = meta.get("moto_niceness")
    if isinstance(found, list):
        levels = found
    else:
        levels = [int(found or 0) if meta.get("moto_session_niced") else 0]
    if levels == [0]:
        priority = "moto (the cloud's stand-in) at the normal priority, on the same cores"
    else:
        priority = f"moto (the cloud's stand-in) at nice {' and '.join(map(str, levels))}, on the same cores"
    return f"{priority}, {_glue_runs_answer(meta)}; "


def _glue_runs_answer(meta: dict[str, Any]) -> str:
    """Whether moto's ``GetJobRuns`` went through its own serializer (about 42 ms of CPU a page)."""
    found = meta.get("moto_fast_glue_runs", False)
    kinds = set(found) if isinstance(found, list) else {bool(found)}
    if kinds == {True}:
        return "answering GetJobRuns without its serializer (the same runs, about 3 ms of CPU a page, not 42)"
    if kinds == {False}:
        return (
            "answering GetJobRuns with its own serializer (about 42 ms of CPU a page of 200 runs)"
        )
    return "answering GetJobRuns with its own serializer in some runs and without it in others"


def markdown(rows: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    found = groups(rows)
    floors = {
        n: runs[0] if len(runs) == 1 else median_of(runs)
        for (kind, n), runs in found.items()
        if kind == FLOOR
    }
    lines = [
        "# Waits inside a real Airflow deployment, beside Airflow's own floors",
        "",
        f"{meta['when']}, {meta['machine']}; Airflow {meta['airflow']}; each row in a deployment of"
        f" its own (PostgreSQL, api-server, scheduler, dag-processor, triggerers, moto); poll every"
        f" {meta['poll']} s; {_moto_priority(meta)}every wait released at once {meta['steady']} s after the triggerer's"
        f" runner had started all of them and served their start-time round trips. Command:"
        f" `{meta['command']}`.",
        "",
        "Start phase: runs posted → every trigger started in the runner and its round trips served"
        " (in every row, the lag probe has looked up one connection before: Airflow's supervisor"
        " builds its in-process API on its first request, once per triggerer process)."
        " End phase: released (DateTimeSensorAsync: its fire time) → the last DAG run's end;"
        " for the Glue waits also from their first poll after the release (moto's first"
        " describe: a poller learns of the end up to one poll interval later, wherever its ticks"
        " happen to fall; the floors see their release within 0.1 s), which the end-phase goal"
        " compares. The floors' runs carry a conf of the waits' shape and size (Airflow validates"
        " it as params for every trigger it starts)."
        " Ratios (x) are to the quiet floor at the same N (the median of its runs where it ran"
        " several times). Stalls: the lag probe's own timeline"
        " (longest per phase; held: all its stalls over 0.2 s in the phase, summed), and the"
        " runner's longest garbage collection in the phase (a full collection holds the loop while"
        " it scans every object); left: one full collection timed once the row had ended, the"
        " garbage the row left to collect after its measured window (the ended triggers' DAG"
        " copies). Round trips: supervisor requests per wait in the start phase"
        " (state syncs left out). Events: `handle_events` batches → seconds (ms per event), end phase."
        " INFO lines: in the trigger logs, all and the triggers' own (Airflow's runner writes 3 per"
        " task: 'trigger ... starting', 'Trigger fired event', 'trigger completed').",
        "",
        "| Row | Waits | Ended | Worker slots | Start s | End s | Longest stall start / end s |"
        " Loop held start / end s | Longest GC start / end s; left |"
        " Blocked warnings (max s) | Unknown frames | Deadlocked / skipped heartbeats, start; end |"
        " INFO lines per wait, all / own | Event bytes max / mean | Round trips per wait (start) |"
        " Events (end) | CPU runner / supervisor, start; end (s) (moto's) | RSS peak growth (MiB) |"
        " Wall (s) | Goal | Met |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
        " --- | --- | ---: | ---: | --- | --- |",
    ]
    extra: list[str] = []
    for row in rows:
        if "error" in row:
            lines.append(
                f"| {row['label']} | {row['waits']:,} | did not finish: {row['error']} |"
                + " |" * 15
                + f" {row.get('row_wall_s', '')} | | no |"
            )
            continue
        floor = floors.get(row["waits"])
        text, missed = goal(row, floor if row["approach"] != FLOOR else None)
        runs = len(found.get((row["approach"], row["waits"]), ()))
        if text == "(reference)" or (text.startswith("(no quiet floor") and not missed):
            met = "-"
        elif row["approach"] == "async_hooks" and runs > 1:
            met = f"one of {runs} runs: judged on the medians below"
        else:
            met = "yes" if not missed else "no: " + "; ".join(missed)
        if row["approach"] in OWN_TABLE:
            extra += _special(row, text, met)
            continue
        start, end = row["start"], row["end"]
        fs, fe = (floor["start"]["seconds"], floor["end"]["seconds"]) if floor else (None, None)
        floor_stall = f" (floor {_fmt(_stall(floor), 2)})" if floor and row is not floor else ""
        deadlocks = (
            f"{_fmt(start.get('deadlocked'))} / {start['heartbeats_skipped']};"
            f" {_fmt(end.get('deadlocked'))} / {end['heartbeats_skipped']}"
        )
        logs = row.get("trigger_logs", {})
        lines.append(
            f"| {row['label']} | {row['waits']:,} | {row['task_states']} | {row['worker_slots']:,}"
            f" | {_fmt(start['seconds'])}{_ratio(start['seconds'], fs)}"
            f" | {_end(row, fe)}"
            f" | {_fmt(start['longest_stall_s'], 2)} / {_fmt(end['longest_stall_s'], 2)}{floor_stall}"
            f" | {_fmt(held(row, start))} / {_fmt(held(row, end))}"
            f" | {_fmt(start.get('longest_gc_s'), 2)} / {_fmt(end.get('longest_gc_s'), 2)};"
            f" {_left(row)}"
            f" | {row['blocked_warnings']} ({row['blocked_max_s']:.2f})"
            f" | {row['unknown_frames']} | {deadlocks}"
            f" | {_fmt(logs.get('info_per_wait'), 2)} / {_fmt(logs.get('own_info_per_wait'), 2)}"
            f" | {row['event_bytes_max']} / {_fmt(row['event_bytes_mean'], 0)}"
            f" | {_requests(start)} | {_batches(end)}"
            f" | {start['cpu_runner_s']} / {start['cpu_supervisor_s']}; {end['cpu_runner_s']} / {end['cpu_supervisor_s']}"
            f" ({_fmt(start.get('cpu_moto_s'))}; {_fmt(end.get('cpu_moto_s'))})"
            f" | {_fmt(row.get('rss_peak_growth_mib'), 0)} | {_fmt(row.get('row_wall_s'), 0)}"
            f" | {text} | {met} |"
        )
    return "\n".join(lines + _medians(rows) + extra) + "\n"


#: Rows reported in a section of their own (their phases are per wave or per triggerer), not
#: in the main table.
OWN_TABLE = ("failover", "longlived", "longlived_floor")
_LONGLIVED = {"longlived": "Long-lived", "longlived_floor": "Long-lived, the quiet floor"}


def _rss_shares(waves: list[dict[str, Any]]) -> str:
    """How each triggerer process grew from the first wave to the last: the runner runs the
    triggers, the supervisor (Airflow's own) persists their events and routes their logs."""
    first, last = waves[0], waves[-1]
    if not first.get("rss_runner_after_mib") or not last.get("rss_runner_after_mib"):
        return ""
    runner = _growth(first["rss_runner_after_mib"], last["rss_runner_after_mib"])
    supervisor = _growth(
        first["rss_after_mib"] - first["rss_runner_after_mib"],
        last["rss_after_mib"] - last["rss_runner_after_mib"],
    )
    return f" (the runner's {runner}, the supervisor's {supervisor})"


def _growth(before: float, after: float) -> str:
    return f"{100 * (after - before) / before:+.1f} %"


def _special(row: dict[str, Any], text: str, met: str) -> list[str]:
    if row["approach"] == "failover":
        moved, end = row["failover"], row["end"]
        return [
            "",
            f"**Failover** ({row['waits']:,} waits, 2 triggerers holding {row['held_before_kill']},"
            f" `kill -9` of one): {row['task_states']}, worker slots {row['worker_slots']}, highest"
            f" try number {row['max_try_number']}, started in the survivor {row['started_in_survivor']:,}"
            f" (inserted twice: {row['inserted_twice']}); deadlines (TI.trigger_timeout) changed"
            f" {row['deadlines_changed']} of {row['deadlines_checked']:,}; the survivor took the"
            f" {row['moved']:,} moved waits in {_fmt(moved['seconds'])} s after the kill with"
            f" {row['round_trips_per_moved']} round trips per moved wait ({_requests(moved)});"
            f" end phase {_fmt(end['seconds'])} s, events {_batches(end)}; longest stall"
            f" {_fmt(moved['longest_stall_s'], 2)} s (failover) / {_fmt(end['longest_stall_s'], 2)} s"
            f" (end); unknown frames {row['unknown_frames']}, 'appears deadlocked' {row['deadlocked']};"
            f" row wall {_fmt(row.get('row_wall_s'), 0)} s. Goal: {text}. Met: {met}.",
        ]
    waves = row["per_wave"]
    lines = [
        "",
        f"**{_LONGLIVED[row['approach']]}** ({row['waves']} waves of {row['waits']:,} waits"
        f"{' through one connection with an assumed role' if row['approach'] == 'longlived' else ''},"
        f" one triggerer): RSS {row['rss_growth_pct']:+.1f} % from after wave 1 to"
        f" after wave {row['waves']}{_rss_shares(waves)}; {row['task_states']};"
        f" API calls {row.get('api_calls')};"
        f" row wall {_fmt(row.get('row_wall_s'), 0)} s. Goal: {text}. Met: {met}.",
        "",
        "| Wave | Start s | End s | Longest stall start / end s | Round trips per wait (start)"
        " | RSS after (MiB) | of which the runner's |",
        "| ---: | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    for wave in waves:
        lines.append(
            f"| {wave['wave']} | {_fmt(wave['start_s'])} | {_fmt(wave['end_s'])}"
            f" | {_fmt(wave['start'].get('longest_stall_s'), 2)} / {_fmt(wave['end'].get('longest_stall_s'), 2)}"
            f" | {_requests(wave['start'])} | {_fmt(wave['rss_after_mib'])}"
            f" | {_fmt(wave.get('rss_runner_after_mib'))} |"
        )
    return lines
