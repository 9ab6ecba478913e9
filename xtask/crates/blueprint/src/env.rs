//! The deployment environments a blueprint's `execution_modes` can enable, in promotion order.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Env {
    Dev,
    Staging,
    Production,
}

impl Env {
    /// In promotion order.
    pub const ALL: [Env; 3] = [Env::Dev, Env::Staging, Env::Production];

    pub fn name(self) -> &'static str {
        match self {
            Env::Dev => "dev",
            Env::Staging => "staging",
            Env::Production => "production",
        }
    }

    pub fn names() -> Vec<&'static str> {
        Env::ALL.iter().map(|e| e.name()).collect()
    }

    /// The environment promotion takes this one's images from.
    pub fn previous(self) -> Option<Env> {
        match self {
            Env::Dev => None,
            Env::Staging => Some(Env::Dev),
            Env::Production => Some(Env::Staging),
        }
    }
}

impl fmt::Display for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Env {
    type Err = String;

    fn from_str(s: &str) -> Result<Env, String> {
        Env::ALL.into_iter().find(|e| e.name() == s).ok_or_else(|| {
            format!(
                "unknown environment `{s}`{}; the environments are: {}",
                diagnostics::suggestion(s, &Env::names()),
                Env::names().join(", ")
            )
        })
    }
}
