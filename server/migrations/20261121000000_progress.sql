-- Learners and their progress through lessons.
-- A learner is an anonymous id kept in a cookie; accounts come later and will point at it.

CREATE TABLE learners (
    id            TEXT PRIMARY KEY NOT NULL,  -- UUID v4, from the `streamlab_learner` cookie
    created_at_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE lesson_progress (
    learner_id         TEXT NOT NULL REFERENCES learners (id) ON DELETE CASCADE,
    lesson_slug        TEXT NOT NULL,
    first_visited_at_ms INTEGER NOT NULL,
    last_visited_at_ms  INTEGER NOT NULL,
    completed_at_ms     INTEGER,                -- NULL until the learner completes the lesson
    PRIMARY KEY (learner_id, lesson_slug)
) STRICT, WITHOUT ROWID;
