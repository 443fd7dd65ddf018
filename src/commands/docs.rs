//! `fogg completions` and `fogg man`: the command line described for
//! shells and for `man`, generated from the same definition clap parses.

use std::io::Write;

use anyhow::Context;
use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs, ManArgs};
use fogg_core::verdict::Verdict;

/// Prints the completion script for a shell.
pub fn completions(args: &CompletionsArgs, out: &mut dyn Write) -> anyhow::Result<Verdict> {
    clap_complete::generate(args.shell, &mut Cli::command(), "fogg", out);
    out.flush()?;
    Ok(Verdict::Pass)
}

/// Prints fogg.1, or writes every page into a folder.
pub fn man(args: &ManArgs, out: &mut dyn Write) -> anyhow::Result<Verdict> {
    let command = Cli::command();
    match &args.dir {
        None => {
            clap_mangen::Man::new(command).render(out)?;
            out.flush()?;
        }
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating '{}'", dir.display()))?;
            clap_mangen::generate_to(command, dir)
                .with_context(|| format!("writing manual pages into '{}'", dir.display()))?;
            fogg_core::say!("wrote manual pages into {}", dir.display());
        }
    }
    Ok(Verdict::Pass)
}
