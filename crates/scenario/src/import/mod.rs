//! Scenario skeletons from what users already have: `fogg import har`
//! turns a browser recording into states, requests, resources, captures
//! and think times, every guess commented.

pub mod har;
mod har_file;
