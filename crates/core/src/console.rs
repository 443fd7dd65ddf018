//! Lines for people on stderr: progress, notes, where the reports went.
//! A closed stderr (`fogg load 2>&1 | head`) loses them, but never
//! panics or changes the outcome, as `eprintln!` would.

use std::io::Write;

/// Writes `text` to stderr, ignoring a closed stream.
pub fn write(text: std::fmt::Arguments<'_>) {
    let _ = std::io::stderr().lock().write_fmt(text);
}

/// `eprintln!` that never panics: a line on stderr, lost if stderr is
/// closed.
#[macro_export]
macro_rules! say {
    () => { $crate::console::write(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::console::write(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `eprint!` that never panics.
#[macro_export]
macro_rules! say_part {
    ($($arg:tt)*) => { $crate::console::write(format_args!($($arg)*)) };
}
