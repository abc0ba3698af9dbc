//! Placeholder until the case runner lands.
