//! The agent's spool: one file per job it holds, written (and fsynced, with its directory)
//! before the server is told the job arrived, and rewritten as the job moves on, so after a
//! crash the agent knows of every job whether it had not started, was printing, or has a result
//! the server has not yet heard.

use serde::{Deserialize, Serialize};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

/// How far the agent got with a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum Stage {
    /// On disk; not yet sent to the printer.
    Received,
    /// Bytes may be going out: after a crash here the paper may or may not exist.
    Printing,
    /// The result, still to be reported.
    Done { result: JobResult },
}

/// What the agent reports about a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobResult {
    pub printed: bool,
    pub error: Option<String>,
    pub uncertain: bool,
    pub printer_down: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpooledJob {
    pub id: i64,
    pub attempt: i64,
    pub printer_id: String,
    pub address: String,
    pub bytes_base64: String,
    #[serde(flatten)]
    pub stage: Stage,
}

/// The spool directory.
#[derive(Debug, Clone)]
pub struct Spool {
    dir: PathBuf,
}

impl Spool {
    pub fn open(dir: &Path) -> std::io::Result<Spool> {
        fs::create_dir_all(dir)?;
        Ok(Spool {
            dir: dir.to_path_buf(),
        })
    }

    fn path(&self, id: i64, attempt: i64) -> PathBuf {
        self.dir.join(format!("job-{id}-{attempt}.json"))
    }

    /// Writes `job` durably: a temporary file fsynced, renamed over the old one, and the
    /// directory fsynced so the rename itself survives a power cut.
    pub fn write(&self, job: &SpooledJob) -> std::io::Result<()> {
        let path = self.path(job.id, job.attempt);
        let tmp = path.with_extension("tmp");
        let mut file = File::create(&tmp)?;
        file.write_all(&serde_json::to_vec(job).map_err(std::io::Error::other)?)?;
        file.sync_all()?;
        fs::rename(&tmp, &path)?;
        File::open(&self.dir)?.sync_all()
    }

    /// Forgets a job the server has settled.
    pub fn remove(&self, id: i64, attempt: i64) -> std::io::Result<()> {
        match fs::remove_file(self.path(id, attempt)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => File::open(&self.dir)?.sync_all(),
        }
    }

    /// Every job in the spool, oldest job first. A file that does not parse (torn before its
    /// rename could not be, so it is someone else's) is left alone and skipped.
    pub fn jobs(&self) -> std::io::Result<Vec<SpooledJob>> {
        let mut jobs = Vec::new();
        for entry in fs::read_dir(&self.dir)? {
            let path = entry?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            match serde_json::from_slice::<SpooledJob>(&fs::read(&path)?) {
                Ok(job) => jobs.push(job),
                Err(error) => {
                    tracing::warn!(path = %path.display(), %error, "unreadable spool file skipped")
                }
            }
        }
        jobs.sort_by_key(|j| (j.id, j.attempt));
        Ok(jobs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_survive_reopening_and_move_through_their_stages() {
        let dir = std::env::temp_dir().join(format!("spool-{}", rand::random::<u64>()));
        let spool = Spool::open(&dir).unwrap();
        let mut job = SpooledJob {
            id: 7,
            attempt: 2,
            printer_id: "p".into(),
            address: "127.0.0.1:9100".into(),
            bytes_base64: "AA==".into(),
            stage: Stage::Received,
        };
        spool.write(&job).unwrap();
        job.stage = Stage::Done {
            result: JobResult {
                printed: true,
                error: None,
                uncertain: false,
                printer_down: false,
            },
        };
        spool.write(&job).unwrap();
        assert_eq!(Spool::open(&dir).unwrap().jobs().unwrap(), vec![job]);
        spool.remove(7, 2).unwrap();
        spool.remove(7, 2).unwrap();
        assert!(spool.jobs().unwrap().is_empty());
        fs::remove_dir_all(dir).unwrap();
    }
}
