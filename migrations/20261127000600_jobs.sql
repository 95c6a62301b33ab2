-- Background jobs (SPEC §2, issue 6): one row per recurring job, claimed by whichever runner
-- (`dashboard serve` with JOBS=inline, or `dashboard worker`) gets to it first. See src/jobs/.

CREATE TABLE jobs (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- What `dashboard jobs` shows and `dashboard jobs run NAME` takes: 'retention', 'demo-feed',
    -- 'source:<board>/<widget>'. Kept in step with renames by the runner's sync.
    name             TEXT NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    kind             TEXT NOT NULL CHECK (kind IN ('retention', 'demo_feed', 'pull_source')),
    -- The widget a pull source feeds; deleting the widget deletes its job.
    widget_id        BIGINT UNIQUE REFERENCES widgets (id) ON DELETE CASCADE,
    interval_s       INTEGER NOT NULL CHECK (interval_s >= 1),
    next_run_at      TIMESTAMPTZ NOT NULL,
    -- A claim: the runner that holds the job and until when. A runner that dies mid-run loses
    -- its claim when the lease ends, and another runner retries the run.
    locked_by        TEXT,
    locked_until     TIMESTAMPTZ,
    -- Failures in a row (reset by a success): drives the retry back-off.
    attempts         INTEGER NOT NULL DEFAULT 0,
    runs             BIGINT NOT NULL DEFAULT 0,
    failures         BIGINT NOT NULL DEFAULT 0,
    last_run_at      TIMESTAMPTZ,
    last_run_by      TEXT,
    last_duration_ms INTEGER,
    last_error       TEXT,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((kind = 'pull_source') = (widget_id IS NOT NULL))
);

-- The fixed jobs (retention, demo feed) exist once each.
CREATE UNIQUE INDEX jobs_one_per_fixed_kind ON jobs (kind) WHERE widget_id IS NULL;
CREATE INDEX jobs_name ON jobs (name);
CREATE INDEX jobs_next_run_at ON jobs (next_run_at);
