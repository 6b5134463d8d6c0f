"""The embedded runtime: stores, bus and the pipeline workers of one nocwise process.

Data path (DESIGN §1): an edge stores records durably, then publishes them on the bus;
workers consume topics in order:

    alarms ──► correlate ──► incidents ──► diagnose ──► hypotheses ──► remediate
    metrics ─► detect (metric anomalies) ──► alarms
    logs ────► detect (log anomalies)   ──► alarms

Every worker is an asyncio task reading one topic; numeric work runs on whole batches.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from nocwise.bus import BusFullError, MemoryBus
from nocwise.clock import Clock
from nocwise.config import Settings
from nocwise.config.schema import MemoryBus as MemoryBusConfig
from nocwise.correlate.learning import feedback_pairs
from nocwise.model import (
    Alarm,
    Change,
    Entity,
    Incident,
    LogRecord,
    MetricBatch,
    Relation,
    Series,
    Ticket,
)
from nocwise.remediate.tickets import action_of
from nocwise.runtime.checkpoints import ChildSave, CorrelatorCheckpoints
from nocwise.runtime.stages import Stages, build_stages, correlate_config
from nocwise.runtime.telemetry_metrics import OwnMetrics
from nocwise.store.state.db import Database, make_engine
from nocwise.store.state.migrate import upgrade
from nocwise.store.state.repositories import (
    AlarmFilter,
    AlarmRepository,
    AuditLog,
    BatchRepository,
    ChangeRepository,
    IncidentRepository,
    TicketRepository,
    TokenRepository,
    TopologyRepository,
)
from nocwise.store.telemetry import TelemetryStore

log = logging.getLogger(__name__)

IncidentListener = Callable[[Sequence[str]], None]


class Runtime:
    """Everything one nocwise process holds: built from settings and a clock; ``start()``
    launches the workers and ``stop()`` closes the stores."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        if settings.bus.kind != "memory":
            raise ValueError(
                f"bus.kind {settings.bus.kind!r} is not available in this version; use 'memory'"
            )
        self.settings = settings
        self.clock = clock
        self.metrics = OwnMetrics()
        self.db = Database(make_engine(settings.state_url()))
        upgrade(self.db.engine)
        self.telemetry = TelemetryStore(settings.telemetry_path())
        self.bus = MemoryBus(self.bus_capacity())
        with self.db.session() as s:
            topo = TopologyRepository(s)
            entities, relations = topo.entities(), topo.relations()
            if settings.auth.bootstrap_admin_token is not None:
                TokenRepository(s).ensure(
                    settings.auth.bootstrap_admin_token.get_secret_value(),
                    "admin",
                    "bootstrap",
                    clock.now(),
                )
        self.stages: Stages = build_stages(settings, entities, relations)
        self.checkpoints = CorrelatorCheckpoints(settings.data_dir / "checkpoints")
        self.stages.causality = self.checkpoints.load_causality()
        restored = self.checkpoints.load(
            self.stages.graph, correlate_config(settings), self.stages.causality
        )
        if restored is not None:
            self.stages.correlator = restored
        elif self.stages.causality is not None:
            self.stages.rebuild_correlator()
        self._last_checkpoint = time.monotonic()
        self.series: dict[int, Series] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._working = 0  # items being processed by a worker (idle() waits for 0)
        self._save_task: asyncio.Task[None] | None = None  # a checkpoint being written
        self._save_reads_correlator = False  # ... by a thread of this process (no fork)
        self._child: ChildSave | None = None  # ... or by this child process
        self._checkpoint_seconds = 0.0  # how long the last one took
        self.child_save_limit_s = 600.0  # a save process running longer is killed as stuck
        self._watermark: datetime | None = None  # newest event time correlation has processed
        self._correlating = False  # the correlate worker is inside a batch
        # a replay drives correlation's timers itself, after each drained step: the ticker
        # then leaves them alone, so a replay gives the same incidents however loaded the host
        self.timers_by_replay = False
        self._listeners: list[IncidentListener] = []
        self.events_in = 0
        self.alarms_in = 0
        self.last_error: str | None = None

    # ---- edges: store durably, then publish -------------------------------------------------

    def check_capacity(self, topic: str) -> None:
        """Raise BusFullError before accepting data the pipeline cannot take now."""
        if self.bus.depth(topic) >= self.bus_capacity() * 0.9:
            raise BusFullError(topic, retry_after_s=1.0)

    def bus_capacity(self) -> int:
        """The bound of every queue."""
        bus = self.settings.bus
        return bus.max_queue if isinstance(bus, MemoryBusConfig) else 10_000

    def store_alarms(self, alarms: Sequence[Alarm], batch_id: str | None, source: str) -> bool:
        """Durably store alarms; False if this batch id was stored before (a retry)."""
        with self.db.session() as s:
            if batch_id is not None:
                batches = BatchRepository(s)
                if batches.seen(batch_id):
                    return False
                batches.remember(batch_id, source, len(alarms), self.clock.now())
            AlarmRepository(s).upsert_many(alarms)
        self.metrics.received.labels(source, "alarm").inc(len(alarms))
        return True

    async def ingest_alarms(
        self, alarms: Sequence[Alarm], batch_id: str | None = None, source: str = "api"
    ) -> bool:
        """Store then publish alarms. Returns False for a repeated batch (nothing new)."""
        if not alarms:
            return True
        fresh = await asyncio.to_thread(self.store_alarms, alarms, batch_id, source)
        if fresh:
            self.events_in += len(alarms)
            await self.bus.publish("alarms", list(alarms))
        return fresh

    async def ingest_metrics(self, series: Sequence[Series], batch: MetricBatch) -> None:
        """Store samples, then publish them to detection."""
        new = [s for s in series if s.id not in self.series]
        if new:
            self.series.update({s.id: s for s in new})
            await asyncio.to_thread(self.telemetry.add_series, new)
        await asyncio.to_thread(self.telemetry.append, batch)
        self.events_in += len(batch)
        self.metrics.received.labels("metrics", "sample").inc(len(batch))
        if self.settings.pipeline.detection.metrics:
            await self.bus.publish("metrics", batch)

    async def ingest_logs(self, records: Sequence[LogRecord]) -> None:
        """Store log records, then publish them to detection."""
        await asyncio.to_thread(self.telemetry.append_logs, records)
        self.events_in += len(records)
        self.metrics.received.labels("logs", "log").inc(len(records))
        if self.settings.pipeline.detection.logs:
            await self.bus.publish("logs", list(records))

    async def ingest_changes(self, changes: Sequence[Change]) -> None:
        """Store changes; correlation opens maintenance windows, diagnosis sees deployments."""
        await asyncio.to_thread(self._store_changes, changes)
        await self.bus.publish("changes", list(changes))

    def _store_changes(self, changes: Sequence[Change]) -> None:
        with self.db.session() as s:
            ChangeRepository(s).upsert_many(changes)

    async def ingest_topology(
        self, entities: Sequence[Entity], relations: Sequence[Relation]
    ) -> None:
        """Store entities and relations and rebuild the topology every stage uses."""
        await asyncio.to_thread(self._store_topology, entities, relations)
        with self.db.session() as s:
            topo = TopologyRepository(s)
            all_entities, all_relations = topo.entities(), topo.relations()
        await self._correlator_free()
        self.stages.set_topology(all_entities, all_relations)

    def _store_topology(self, entities: Sequence[Entity], relations: Sequence[Relation]) -> None:
        with self.db.session() as s:
            TopologyRepository(s).upsert(entities, relations)

    async def ingest_tickets(self, tickets: Sequence[Ticket]) -> None:
        """Store tickets; resolved ones retrain the remediation recommender."""
        await asyncio.to_thread(self._store_tickets, tickets)
        if any(action_of(t) for t in tickets):  # only closed tickets with a code teach anything
            with self.db.session() as s:
                history = TicketRepository(s).all()
            await asyncio.to_thread(self.stages.learn_tickets, history)

    def _store_tickets(self, tickets: Sequence[Ticket]) -> None:
        with self.db.session() as s:
            TicketRepository(s).upsert_many(tickets)

    def audit(self, actor: str, role: str, action: str, target: str, detail: str = "") -> None:
        """Append to the hash-chained audit log."""
        with self.db.session() as s:
            AuditLog(s).append(self.clock.now(), actor, role, action, target, detail)

    def on_incidents(self, listener: IncidentListener) -> None:
        """Call ``listener(incident_ids)`` whenever incidents change (the console listens)."""
        self._listeners.append(listener)

    # ---- workers ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the pipeline workers (queues exist before the first publish)."""
        await self._reconcile_with_store()
        for topic, group in (
            ("alarms", "correlate"),
            ("changes", "correlate"),
            ("incidents", "diagnose"),
            ("metrics", "detect"),
            ("logs", "detect"),
        ):
            self.bus.queue_for(topic, group)
        self._tasks = [
            asyncio.create_task(self._run("correlate", self._correlate_worker())),
            asyncio.create_task(self._run("changes", self._changes_worker())),
            asyncio.create_task(self._run("diagnose", self._diagnose_worker())),
            asyncio.create_task(self._run("detect-metrics", self._metrics_worker())),
            asyncio.create_task(self._run("detect-logs", self._logs_worker())),
            asyncio.create_task(self._run("ticker", self._ticker())),
        ]
        await asyncio.sleep(0)  # let every worker begin: a stop() right after must not orphan one

    async def stop(self) -> None:
        """Stop workers, save the correlator's state and close stores."""
        await self.bus.close()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._child is not None:  # the save below supersedes a child's older image
            self._child.kill()
        if self._save_task is not None:
            with contextlib.suppress(Exception):
                await self._save_task  # a periodic save still writing: let it finish first
        self.save_checkpoint()
        self.telemetry.close()
        self.db.dispose()

    async def _run(self, name: str, work: object) -> None:
        """Run a worker; an error is logged and counted, never kills the process silently."""
        assert asyncio.iscoroutine(work)
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a worker must never take the process down
            self.last_error = f"{name}: {exc!r}"
            log.exception("worker %s failed", name)

    async def idle(self, timeout_s: float = 30.0) -> bool:
        """Wait until every queue is drained (tests and the demo use it)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.bus.idle() and not self._working:
                await asyncio.sleep(0.05)
                if self.bus.idle() and not self._working:
                    return True
            await asyncio.sleep(0.02)
        return False

    async def _correlate_worker(self) -> None:
        async for item in self.bus.subscribe("alarms", "correlate"):
            assert isinstance(item, list)
            self._working += 1
            self._correlating = True
            try:
                await self._correlator_free()
                with self.metrics.stage_seconds.labels("correlate").time():
                    changed = self.stages.correlate(item, self.clock.now())
                newest = max((a.changed_time or a.event_time for a in item), default=None)
                if newest is not None and (self._watermark is None or newest > self._watermark):
                    self._watermark = newest
                self.alarms_in += len(item)
                self.metrics.alarms_processed.inc(len(item))
                await self.save_incidents(changed)
            except Exception as exc:
                self.last_error = f"correlate: {exc!r}"
                log.exception("correlation failed on a batch of %d alarms", len(item))
            finally:
                self._working -= 1
                self._correlating = False

    async def _changes_worker(self) -> None:
        async for item in self.bus.subscribe("changes", "correlate"):
            assert isinstance(item, list)
            await self._correlator_free()
            self.stages.add_changes(item)

    async def save_incidents(self, incidents: Sequence[Incident]) -> None:
        if not incidents:
            return
        await asyncio.to_thread(self._store_incidents, incidents)
        ids = [i.id for i in incidents]
        await self.bus.publish("incidents", ids)

    def _store_incidents(self, incidents: Sequence[Incident]) -> None:
        """Save correlation's view; hypotheses belong to diagnosis, which reruns on the change,
        so until it does the stored ones stay rather than blink out."""
        with self.db.session() as s:
            repo = IncidentRepository(s)
            for inc in incidents:
                if not inc.hypotheses:
                    stored = repo.get(inc.id)
                    if stored is not None and stored[0].hypotheses:
                        inc = replace(inc, hypotheses=stored[0].hypotheses)
                repo.upsert(inc)

    async def _diagnose_worker(self) -> None:
        async for item in self.bus.subscribe("incidents", "diagnose"):
            assert isinstance(item, list)
            self._working += 1
            try:
                await asyncio.to_thread(self._diagnose, item)
                for listener in self._listeners:
                    listener(item)
            except Exception as exc:
                self.last_error = f"diagnose: {exc!r}"
                log.exception("diagnosis failed")
            finally:
                self._working -= 1

    def _diagnose(self, incident_ids: Sequence[str]) -> None:
        """Rank root causes and recommend remediation for changed incidents."""
        settings = self.settings.pipeline
        with self.db.session() as s:
            incidents = IncidentRepository(s)
            alarms = AlarmRepository(s)
            changes = ChangeRepository(s)
            for incident_id in dict.fromkeys(incident_ids):
                found = incidents.get(incident_id)
                if found is None:
                    continue
                incident = self.stages.current_incident(incident_id) or found[0]
                members = alarms.get_many(m.alarm_id for m in incident.members)
                window = (incident.opened - timedelta(hours=2), incident.updated)
                entities = {a.managed_object for a in members.values()}
                near = changes.near(self.stages.neighbourhood(entities), *window)
                if settings.diagnose:
                    incident = self.stages.diagnose(incident, list(members.values()), near)
                    incidents.upsert(incident)
                if settings.remediate:
                    recs = self.stages.recommend(incident, list(members.values()))
                    incidents.set_recommendations(incident.id, recs)

    async def _metrics_worker(self) -> None:
        async for item in self.bus.subscribe("metrics", "detect"):
            assert isinstance(item, MetricBatch)
            self._working += 1
            try:
                alarms = self.stages.detect_metrics(item, self.series)
                if alarms:
                    self.metrics.anomalies.labels("metrics").inc(len(alarms))
                    await self.ingest_alarms(alarms, source="nocwise-detect")
            finally:
                self._working -= 1

    async def _logs_worker(self) -> None:
        async for item in self.bus.subscribe("logs", "detect"):
            assert isinstance(item, list)
            self._working += 1
            try:
                alarms = self.stages.detect_logs(item)
                if alarms:
                    self.metrics.anomalies.labels("logs").inc(len(alarms))
                    await self.ingest_alarms(alarms, source="nocwise-logs")
            finally:
                self._working -= 1

    async def _ticker(self) -> None:
        """Fire correlation timers on the injected clock once a second; checkpoint now and then."""
        interval = self.settings.pipeline.correlation.checkpoint_interval_s
        while True:
            await asyncio.sleep(1.0)
            await self._correlator_free()
            if not self.timers_by_replay:
                await self.fire_timers()
            self._refresh_gauges()
            # at most ~5 % of a core on checkpoints, however large the state has grown
            due = max(interval, 20 * self._checkpoint_seconds)
            if interval > 0 and time.monotonic() - self._last_checkpoint >= due:
                await self._start_checkpoint()

    async def fire_timers(self) -> None:
        """Fire correlation's due timers and store the incidents they changed.

        Waits while a checkpoint thread is reading the correlator: a timer firing then would
        change the state under the reader (a replay once failed with "dictionary changed size
        during iteration").
        """
        await self._correlator_free()
        await self.save_incidents(self.stages.tick(self.timer_time()))

    def timer_time(self) -> datetime:
        """The time correlation's timers (group_wait, windows) fire at: the clock when the
        pipeline has caught up, else no later than the newest alarm it has processed, so a
        backlog in a storm does not publish fragments its queued alarms would have joined."""
        now = self.clock.now()
        if self.bus.depth("alarms") == 0 and not self._correlating:
            return now
        return now if self._watermark is None else min(now, self._watermark)

    # ---- correlator state across restarts -----------------------------------------------------

    async def checkpoint(self) -> None:
        """Save the correlator's state as it is now, off the event loop; returns once written.

        A save already running began before now: it is waited for, then another begins."""
        if self._save_task is not None and not self._save_task.done():
            await asyncio.wait([self._save_task])
        await self._start_checkpoint()
        if self._save_task is not None:
            await asyncio.shield(self._save_task)

    async def _start_checkpoint(self) -> None:
        """Begin a save unless one is running: in a forked child, which writes its own image of
        the correlator, so correlation and the API go on at once (``runtime/checkpoints.py``);
        without ``os.fork``, in a thread that correlation waits for (the state must not change
        while it is read)."""
        if self._save_task is not None and not self._save_task.done():
            return
        # settle the funnel's pending counts here, on the loop: the snapshot then only reads
        # them, and so do API requests that ask for the funnel while the thread runs
        self.stages.correlator.funnel()
        if self.checkpoints.fork:
            self._last_checkpoint = time.monotonic()
            self._child = self.checkpoints.save_in_child(
                self.stages.correlator, self.stages.causality
            )
            self._save_reads_correlator = False
            self._save_task = asyncio.create_task(self._wait_for_child(self._child))
        else:
            self._save_reads_correlator = True
            self._save_task = asyncio.create_task(asyncio.to_thread(self.save_checkpoint))
        await asyncio.sleep(0)  # the save has begun when this returns

    async def _wait_for_child(self, child: ChildSave) -> None:
        """Wait for the child's report; one that outlives ``child_save_limit_s`` (or ten times
        the last save) is taken for stuck, e.g. on a lock another thread held at the fork, and
        killed, so that the next period starts a new save instead of waiting forever."""
        started = self._last_checkpoint
        waiting = asyncio.ensure_future(asyncio.to_thread(child.wait))
        limit = max(self.child_save_limit_s, 10 * self._checkpoint_seconds)
        done, _ = await asyncio.wait([waiting], timeout=limit)
        if not done:
            self.last_error = f"checkpoint: the save process ran over {limit:.0f} s and was killed"
            log.error("%s", self.last_error)
            child.kill()
        result = await waiting
        self._child = None
        if child.killed:
            return
        if result.error is None:
            self._checkpoint_seconds = time.monotonic() - started
            log.debug(
                "checkpoint: %d bytes, %.1f s CPU and %.0f MB peak in the child",
                result.written,
                result.cpu_s,
                result.peak_mb,
            )
        else:
            self.last_error = f"checkpoint: {result.error}"
            log.error("could not save the correlator checkpoint: %s", result.error)

    async def _correlator_free(self) -> None:
        """Wait while a checkpoint thread is reading the correlator (a child reads its own
        copy)."""
        while (
            self._save_reads_correlator
            and self._save_task is not None
            and not self._save_task.done()
        ):
            await asyncio.sleep(0.01)

    def save_checkpoint(self) -> None:
        """Save the correlator's working state now, in this process (a failure is logged,
        never raised)."""
        self._last_checkpoint = started = time.monotonic()
        try:
            self.checkpoints.save(self.stages.correlator, self.stages.causality)
            self._checkpoint_seconds = time.monotonic() - started
        except (OSError, ValueError, TypeError) as exc:
            self.last_error = f"checkpoint: {exc!r}"
            log.exception("could not save the correlator checkpoint")

    async def _reconcile_with_store(self) -> None:
        """Bring correlation level with the store after a restart (a resync with ourselves).

        Active alarms the correlator does not hold (stored after the last checkpoint, or no
        checkpoint at all) are fed in; alarms it holds as active that the store has since
        cleared are fed in their stored, cleared state.
        """
        stored_active, stale = await asyncio.to_thread(self._unsynced_alarms)
        alarms = sorted([*stored_active, *stale], key=lambda a: a.changed_time or a.event_time)
        if not alarms:
            return
        log.info("correlation catching up on %d stored alarm notification(s)", len(alarms))
        changed: dict[str, Incident] = {}
        for i in range(0, len(alarms), 1000):
            for inc in self.stages.correlate(alarms[i : i + 1000], self.clock.now()):
                changed[inc.id] = inc
        await self.save_incidents(list(changed.values()))

    def _unsynced_alarms(self) -> tuple[list[Alarm], list[Alarm]]:
        held = {v.alarm.alarm_id for v in self.stages.correlator.open_alarms()}
        active = self._active_alarms()
        missing = [a for a in active if a.alarm_id not in held]
        gone = held - {a.alarm_id for a in active}
        with self.db.session() as s:
            stale = list(AlarmRepository(s).get_many(gone).values())
        return missing, stale

    def _active_alarms(self, page: int = 10_000) -> list[Alarm]:
        out: list[Alarm] = []
        with self.db.session() as s:
            repo = AlarmRepository(s)
            while True:
                items, total = repo.list(AlarmFilter(active=True), page, len(out))
                out.extend(items)
                if not items or len(out) >= total:
                    break
        return out

    async def retrain_grouping(self, days: float = 30.0) -> dict[str, int]:
        """Retrain grouping's alarm-type causality on the stored alarms of the last ``days``,
        with operators' merges and splits applied as votes; open incidents are kept."""
        since = self.clock.now() - timedelta(days=days)
        history, votes = await asyncio.to_thread(self._grouping_training_data, since)
        await self._correlator_free()
        model = self.stages.learn_grouping(history, votes)
        await self.checkpoint()
        return {
            "alarms": len(history),
            "alarm_types": model.n_types,
            "causal_edges": len(model.edges()),
            "feedback_pairs": len(votes),
        }

    def _grouping_training_data(
        self, since: datetime
    ) -> tuple[list[Alarm], dict[tuple[str, str], int]]:
        type_field = correlate_config(self.settings).group.type_field
        feedback = self.stages.correlator.feedback()
        history: list[Alarm] = []
        with self.db.session() as s:
            alarms, incidents = AlarmRepository(s), IncidentRepository(s)
            while True:
                page, total = alarms.list(AlarmFilter(since=since), 10_000, len(history))
                history.extend(page)
                if not page or len(history) >= total:
                    break
            members: dict[str, list[str]] = {}
            for f in feedback:
                found = incidents.get(f.incident_ids[0]) if f.incident_ids else None
                if found is not None:
                    members[found[0].id] = [m.alarm_id for m in found[0].members]
            involved = {a for ids in members.values() for a in ids}
            typed = alarms.get_many(involved)
        type_of = {aid: str(getattr(a, type_field)) for aid, a in typed.items()}
        return history, feedback_pairs(feedback, members, type_of)

    # ---- operator corrections to grouping -----------------------------------------------------

    async def merge_incidents(
        self, into_id: str, from_id: str, actor: str, role: str, comment: str = ""
    ) -> list[str]:
        """Merge ``from_id`` into ``into_id``; the ids changed (LookupError: an incident is not
        live in correlation; ValueError: the merge is refused)."""
        await self._correlator_free()
        changed = self.stages.merge(into_id, from_id, actor)
        await self.save_incidents(changed)
        self.audit(actor, role, "incident.merge", into_id, f"absorbed {from_id} {comment}".strip())
        return [i.id for i in changed]

    async def split_incident(
        self, incident_id: str, alarm_ids: Sequence[str], actor: str, role: str, comment: str = ""
    ) -> tuple[str, list[str]]:
        """Move ``alarm_ids`` into a new incident; its id and the ids changed."""
        await self._correlator_free()
        changed = self.stages.split(incident_id, alarm_ids, actor)
        await self.save_incidents(changed)
        new_id = next(i.id for i in changed if i.id != incident_id)
        detail = f"{len(alarm_ids)} alarm(s) to {new_id} {comment}".strip()
        self.audit(actor, role, "incident.split", incident_id, detail)
        return new_id, [i.id for i in changed]

    def _refresh_gauges(self) -> None:
        funnel = self.stages.funnel()
        self.metrics.funnel.labels("events").set(self.events_in)
        for key, value in funnel.items():
            self.metrics.funnel.labels(key).set(value)
        for topic in ("alarms", "metrics", "logs", "incidents"):
            self.metrics.queue_depth.labels(topic).set(self.bus.depth(topic))

    def funnel(self) -> dict[str, float]:
        """events -> alarms -> incidents, with the compression ratio."""
        out: dict[str, float] = {"events": float(self.events_in)}
        out.update(self.stages.funnel())
        return out
