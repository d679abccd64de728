//! `scripts/scale`: one organization at the sizes its users reach (issue 16.1), seeded by
//! direct batch writes, then measured through the functions' real handlers: first and deep
//! pages of every list, bulk changes of 100, cleanup runs with deadlines, the deletion of the
//! organization to the end, and member counts against what the lists show. Every figure is
//! printed as markdown; every property the issue asks for is a check, and a failed check
//! fails the run (and the e2e smoke test, `scale::`, which runs it at a tiny size).

pub mod app;
mod measure;
pub mod seed;

pub use measure::run;

use std::time::Duration;

/// How big, and how long each cleanup run may take.
#[derive(Debug, Clone)]
pub struct Sizes {
    pub members: usize,
    pub invitations: usize,
    pub audit: usize,
    /// Each cleanup run's deadline (the scheduled function's is its timeout less a margin).
    pub cleanup_budget: Duration,
    /// Times each page is read (the median time is reported).
    pub repeats: usize,
}

impl Sizes {
    /// SCALE_MEMBERS (50,000), SCALE_INVITATIONS (100,000), SCALE_AUDIT (as many as the
    /// members), SCALE_CLEANUP_BUDGET_SECS (30), SCALE_REPEATS (3).
    pub fn from_env() -> Result<Sizes, String> {
        fn var(name: &str, default: usize) -> Result<usize, String> {
            match std::env::var(name) {
                Ok(v) => v
                    .trim()
                    .parse()
                    .map_err(|_| format!("{name} must be a whole number, not {v:?}")),
                Err(_) => Ok(default),
            }
        }
        let members = var("SCALE_MEMBERS", 50_000)?;
        let sizes = Sizes {
            members,
            invitations: var("SCALE_INVITATIONS", 100_000)?,
            audit: var("SCALE_AUDIT", members)?,
            cleanup_budget: Duration::from_secs(var("SCALE_CLEANUP_BUDGET_SECS", 30)? as u64),
            repeats: var("SCALE_REPEATS", 3)?.max(1),
        };
        sizes.check()?;
        Ok(sizes)
    }

    /// The smoke test's size: every step runs, in seconds.
    pub fn tiny() -> Sizes {
        Sizes {
            members: 300,
            invitations: 300,
            audit: 300,
            cleanup_budget: Duration::from_millis(300),
            repeats: 1,
        }
    }

    pub fn check(&self) -> Result<(), String> {
        // Two bulk operations of 100 distinct members, and pages past the first.
        if self.members < 250 || self.invitations < 150 || self.audit < 150 {
            return Err(
                "at least 250 members, 150 invitations and 150 audit entries (SCALE_*)".into(),
            );
        }
        if self.members > 1_000_000 || self.invitations > 1_000_000 || self.audit > 1_000_000 {
            return Err(
                "at most 1,000,000 of each: the emulator keeps everything in memory".into(),
            );
        }
        Ok(())
    }
}

/// What a run found: its markdown, and the checks that failed (none on success).
#[derive(Debug, Default)]
pub struct Report {
    pub markdown: String,
    pub failures: Vec<String>,
}

impl Report {
    fn check(&mut self, ok: bool, what: impl Into<String>) {
        let what = what.into();
        self.markdown
            .push_str(&format!("- {} {what}\n", if ok { "✓" } else { "✗" }));
        if !ok {
            self.failures.push(what);
        }
    }

    fn table(&mut self, title: &str, header: &[&str], rows: &[Vec<String>]) {
        self.markdown.push_str(&format!("\n**{title}**\n\n"));
        self.markdown
            .push_str(&format!("| {} |\n", header.join(" | ")));
        let rule: Vec<&str> = header.iter().map(|_| "---").collect();
        self.markdown.push_str(&format!("|{}|\n", rule.join("|")));
        for row in rows {
            self.markdown
                .push_str(&format!("| {} |\n", row.join(" | ")));
        }
        self.markdown.push('\n');
    }
}
