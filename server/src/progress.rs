//! Learners and their progress, stored in SQLite through sqlx.
//!
//! The database is one file in the data directory, opened in WAL mode so page reads never wait
//! for a write. Migrations live in `server/migrations/` and are compiled into the binary.

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use uuid::Uuid;

/// The database file inside `--data-dir`.
pub const DATABASE_FILE: &str = "streamlab.db";

/// A visit refreshes `last_visited_at_ms` at most this often, so re-reading a page is a read,
/// not a write.
const VISIT_REFRESH_MS: i64 = 60_000;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot open the database {path}: {source}")]
    Open { path: String, source: sqlx::Error },
    #[error("cannot apply database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
}

/// Opens (creating if needed) the database in `data_dir` and brings its schema up to date.
pub async fn open(data_dir: &Path) -> Result<SqlitePool, Error> {
    let path = data_dir.join(DATABASE_FILE);
    let options = SqliteConnectOptions::from_str("sqlite:")
        .map_err(|source| Error::Open { path: path.display().to_string(), source })?
        .filename(&path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // In WAL mode NORMAL loses at most the last transactions on power loss, never corrupts.
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
        .map_err(|source| Error::Open { path: path.display().to_string(), source })?;
    migrate(&pool).await?;
    Ok(pool)
}

pub async fn migrate(pool: &SqlitePool) -> Result<(), Error> {
    sqlx::migrate!("./migrations").run(pool).await?;
    Ok(())
}

/// Where a learner stands in one lesson.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LessonState {
    NotStarted,
    Visited,
    Completed,
}

impl LessonState {
    /// The value of the page's `data-progress` attribute, and the CSS class.
    pub fn as_str(self) -> &'static str {
        match self {
            LessonState::NotStarted => "not-started",
            LessonState::Visited => "visited",
            LessonState::Completed => "completed",
        }
    }

    pub fn is_completed(self) -> bool {
        self == LessonState::Completed
    }

    pub fn label(self) -> &'static str {
        match self {
            LessonState::NotStarted => "Not started",
            LessonState::Visited => "In progress",
            LessonState::Completed => "Completed",
        }
    }
}

/// The progress store. Cheap to clone.
///
/// Reads are served from a write-through cache of each recent learner's progress: a lesson page
/// is the hottest request, and a round trip to SQLite for "has this learner seen this lesson?"
/// costed more than rendering the page (see `tests/bench/http.sh`). The cache is correct because
/// this process is the database's only writer; a replicated web tier (PostgreSQL, later) must
/// drop it or invalidate it.
#[derive(Debug, Clone)]
pub struct Progress {
    pool: SqlitePool,
    cache: Arc<Mutex<LearnerCache>>,
}

/// How many learners' progress the cache holds; past that, learners are evicted (and reloaded
/// from the database on their next request).
const CACHED_LEARNERS_MAX: usize = 50_000;

#[derive(Debug, Default)]
struct LearnerCache {
    learners: HashMap<Uuid, HashMap<String, CachedLesson>>,
}

#[derive(Debug, Clone, Copy)]
struct CachedLesson {
    state: LessonState,
    last_visited_at_ms: i64,
}

impl LearnerCache {
    fn insert(&mut self, learner: Uuid, lessons: HashMap<String, CachedLesson>) {
        if self.learners.len() >= CACHED_LEARNERS_MAX && !self.learners.contains_key(&learner) {
            // Any victim will do: an evicted learner costs one database read on their next page.
            if let Some(victim) = self.learners.keys().next().copied() {
                self.learners.remove(&victim);
            }
        }
        self.learners.insert(learner, lessons);
    }
}

impl Progress {
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool, cache: Arc::default() }
    }

    fn cache(&self) -> MutexGuard<'_, LearnerCache> {
        // A panic while holding the lock cannot leave an entry half-written: entries are Copy.
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The learner's lessons as the cache holds them, loading them from the database first.
    async fn lessons(&self, learner: Uuid) -> Result<HashMap<String, CachedLesson>, Error> {
        if let Some(lessons) = self.cache().learners.get(&learner) {
            return Ok(lessons.clone());
        }
        let rows: Vec<(String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT lesson_slug, last_visited_at_ms, completed_at_ms FROM lesson_progress WHERE learner_id = ?",
        )
        .bind(learner.to_string())
        .fetch_all(&self.pool)
        .await?;
        let lessons: HashMap<String, CachedLesson> = rows
            .into_iter()
            .map(|(slug, last_visited_at_ms, completed)| {
                let state = if completed.is_some() { LessonState::Completed } else { LessonState::Visited };
                (slug, CachedLesson { state, last_visited_at_ms })
            })
            .collect();
        self.cache().insert(learner, lessons.clone());
        Ok(lessons)
    }

    fn remember(&self, learner: Uuid, slug: &str, lesson: CachedLesson) {
        if let Some(lessons) = self.cache().learners.get_mut(&learner) {
            lessons.insert(slug.to_owned(), lesson);
        }
    }

    /// Every lesson the learner has touched. Lessons absent from the map are not started.
    pub async fn states(&self, learner: Uuid) -> Result<HashMap<String, LessonState>, Error> {
        Ok(self.lessons(learner).await?.into_iter().map(|(slug, lesson)| (slug, lesson.state)).collect())
    }

    /// Records that the learner opened a lesson and returns its state after the visit.
    ///
    /// The first visit inserts a row; later ones only read (from the cache) unless the last
    /// refresh is older than [`VISIT_REFRESH_MS`].
    pub async fn visit(&self, learner: Uuid, slug: &str, now_ms: i64) -> Result<LessonState, Error> {
        let known = self.lessons(learner).await?.get(slug).copied();
        let id = learner.to_string();
        match known {
            Some(lesson) if now_ms - lesson.last_visited_at_ms < VISIT_REFRESH_MS => Ok(lesson.state),
            Some(lesson) => {
                sqlx::query(
                    "UPDATE lesson_progress SET last_visited_at_ms = ? WHERE learner_id = ? AND lesson_slug = ?",
                )
                .bind(now_ms)
                .bind(&id)
                .bind(slug)
                .execute(&self.pool)
                .await?;
                self.remember(learner, slug, CachedLesson { last_visited_at_ms: now_ms, ..lesson });
                Ok(lesson.state)
            }
            None => {
                self.touch(&id, slug, now_ms).await?;
                self.remember(learner, slug, CachedLesson { state: LessonState::Visited, last_visited_at_ms: now_ms });
                Ok(LessonState::Visited)
            }
        }
    }

    /// Marks a lesson completed (idempotent: the first completion time is kept).
    pub async fn complete(&self, learner: Uuid, slug: &str, now_ms: i64) -> Result<(), Error> {
        let id = learner.to_string();
        self.touch(&id, slug, now_ms).await?;
        sqlx::query(
            "UPDATE lesson_progress SET completed_at_ms = COALESCE(completed_at_ms, ?) \
             WHERE learner_id = ? AND lesson_slug = ?",
        )
        .bind(now_ms)
        .bind(&id)
        .bind(slug)
        .execute(&self.pool)
        .await?;
        self.lessons(learner).await?;
        self.remember(learner, slug, CachedLesson { state: LessonState::Completed, last_visited_at_ms: now_ms });
        Ok(())
    }

    /// Records a check run of an exercise; the first passing run marks the exercise passed.
    pub async fn record_exercise_run(
        &self,
        learner: Uuid,
        exercise_id: &str,
        passed: bool,
        now_ms: i64,
    ) -> Result<(), Error> {
        let id = learner.to_string();
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO learners (id, created_at_ms) VALUES (?, ?) ON CONFLICT (id) DO NOTHING")
            .bind(&id)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO exercise_runs (learner_id, exercise_id, passed, ran_at_ms) VALUES (?, ?, ?, ?)")
            .bind(&id)
            .bind(exercise_id)
            .bind(i64::from(passed))
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        if passed {
            sqlx::query(
                "INSERT INTO exercise_progress (learner_id, exercise_id, passed_at_ms) VALUES (?, ?, ?) \
                 ON CONFLICT (learner_id, exercise_id) DO NOTHING",
            )
            .bind(&id)
            .bind(exercise_id)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The exercises this learner has passed.
    pub async fn passed_exercises(&self, learner: Uuid) -> Result<Vec<String>, Error> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT exercise_id FROM exercise_progress WHERE learner_id = ? ORDER BY exercise_id")
                .bind(learner.to_string())
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// Ensures the learner and the lesson's progress row exist, in one transaction.
    async fn touch(&self, learner_id: &str, slug: &str, now_ms: i64) -> Result<(), Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO learners (id, created_at_ms) VALUES (?, ?) ON CONFLICT (id) DO NOTHING")
            .bind(learner_id)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO lesson_progress (learner_id, lesson_slug, first_visited_at_ms, last_visited_at_ms) \
             VALUES (?, ?, ?, ?) \
             ON CONFLICT (learner_id, lesson_slug) DO UPDATE SET last_visited_at_ms = excluded.last_visited_at_ms",
        )
        .bind(learner_id)
        .bind(slug)
        .bind(now_ms)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Wall-clock milliseconds since the Unix epoch, for timestamps in the database.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADA: Uuid = Uuid::from_u128(0xada);
    const BOB: Uuid = Uuid::from_u128(0xb0b);

    #[sqlx::test(migrations = "./migrations")]
    async fn new_learner_has_no_progress(pool: SqlitePool) {
        let progress = Progress::new(pool);
        assert_eq!(progress.states(ADA).await.expect("states"), HashMap::new());
    }

    #[sqlx::test(migrations = "./migrations")]
    async fn visit_then_complete(pool: SqlitePool) {
        let progress = Progress::new(pool.clone());
        assert_eq!(progress.visit(ADA, "events", 1_000).await.expect("visit"), LessonState::Visited);
        assert_eq!(
            progress.states(ADA).await.expect("states"),
            HashMap::from([("events".into(), LessonState::Visited)])
        );

        progress.complete(ADA, "events", 2_000).await.expect("complete");
        progress.complete(ADA, "events", 3_000).await.expect("complete again");
        assert_eq!(progress.visit(ADA, "events", 4_000).await.expect("visit"), LessonState::Completed);
        let (completed,): (i64,) =
            sqlx::query_as("SELECT completed_at_ms FROM lesson_progress").fetch_one(&pool).await.expect("row");
        assert_eq!(completed, 2_000, "the first completion is kept");

        // Another learner's progress is their own.
        assert!(progress.states(BOB).await.expect("states").is_empty());
    }

    #[sqlx::test(migrations = "./migrations")]
    async fn revisits_refresh_the_timestamp_at_most_once_a_minute(pool: SqlitePool) {
        let progress = Progress::new(pool.clone());
        progress.visit(ADA, "offsets", 0).await.expect("visit");
        progress.visit(ADA, "offsets", 59_999).await.expect("visit");
        let last = || async {
            let (ms,): (i64,) =
                sqlx::query_as("SELECT last_visited_at_ms FROM lesson_progress").fetch_one(&pool).await.expect("row");
            ms
        };
        assert_eq!(last().await, 0);
        progress.visit(ADA, "offsets", 60_000).await.expect("visit");
        assert_eq!(last().await, 60_000);
    }

    #[sqlx::test(migrations = "./migrations")]
    async fn progress_survives_a_restart(pool: SqlitePool) {
        let before = Progress::new(pool.clone());
        before.visit(ADA, "events", 1).await.expect("visit");
        before.complete(ADA, "offsets", 2).await.expect("complete");
        // A new store over the same database starts with an empty cache, as after a restart.
        let after = Progress::new(pool);
        assert_eq!(
            after.states(ADA).await.expect("states"),
            HashMap::from([("events".into(), LessonState::Visited), ("offsets".into(), LessonState::Completed)])
        );
    }

    #[sqlx::test(migrations = "./migrations")]
    async fn the_cache_follows_writes_made_after_it_was_filled(pool: SqlitePool) {
        let progress = Progress::new(pool);
        assert!(progress.states(ADA).await.expect("states").is_empty());
        progress.visit(ADA, "events", 1).await.expect("visit");
        progress.complete(ADA, "events", 2).await.expect("complete");
        assert_eq!(progress.states(ADA).await.expect("states")["events"], LessonState::Completed);
        assert_eq!(progress.visit(ADA, "events", 3).await.expect("visit"), LessonState::Completed);
    }

    #[sqlx::test(migrations = "./migrations")]
    async fn completing_without_visiting_creates_the_learner(pool: SqlitePool) {
        let progress = Progress::new(pool.clone());
        progress.complete(BOB, "events", 5).await.expect("complete");
        let (learners,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM learners").fetch_one(&pool).await.expect("count");
        assert_eq!(learners, 1);
        assert_eq!(progress.states(BOB).await.expect("states")["events"], LessonState::Completed);
    }

    #[tokio::test]
    async fn open_creates_a_wal_database_in_the_data_dir() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pool = open(dir.path()).await.expect("open");
        let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode").fetch_one(&pool).await.expect("pragma");
        assert_eq!(mode, "wal");
        assert!(dir.path().join(DATABASE_FILE).exists());
        // Opening again runs no migration twice.
        pool.close().await;
        open(dir.path()).await.expect("reopen");
    }
}
