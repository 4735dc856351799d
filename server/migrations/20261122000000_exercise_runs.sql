-- Exercise checks: every run, and when each exercise was first passed.

CREATE TABLE exercise_runs (
    learner_id   TEXT NOT NULL REFERENCES learners (id) ON DELETE CASCADE,
    exercise_id  TEXT NOT NULL,
    passed       INTEGER NOT NULL CHECK (passed IN (0, 1)),
    ran_at_ms    INTEGER NOT NULL
) STRICT;

CREATE INDEX exercise_runs_by_learner ON exercise_runs (learner_id, exercise_id);

CREATE TABLE exercise_progress (
    learner_id    TEXT NOT NULL REFERENCES learners (id) ON DELETE CASCADE,
    exercise_id   TEXT NOT NULL,
    passed_at_ms  INTEGER NOT NULL,
    PRIMARY KEY (learner_id, exercise_id)
) STRICT, WITHOUT ROWID;
