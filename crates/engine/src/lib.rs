//! fogg's engines on the journey model: parallel simulation ([`sim`]),
//! paired what-if walks ([`whatif`]), journeys placed in campaign time
//! ([`forecast`]), event logs read and checked once ([`events`]), Markov
//! attribution of path files and event logs ([`attribution`]) and fitting
//! a chain to data ([`fit`]).

#![warn(missing_docs)]

pub mod attribution;
pub mod events;
pub mod fit;
pub mod forecast;
pub mod sim;
pub mod whatif;
