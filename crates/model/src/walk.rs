//! `Model::walk`: one customer's journey, step by step, with no allocation.
//!
//! Both drivers share it: the simulator counts the steps, load mode turns
//! each into HTTP requests and a pause. Every step draws, in this order,
//! the dwell time, the conversion value (conversion states only) and the
//! next state, so a journey depends only on the RNG it is given.

use rand::Rng;

use super::alias::{EXIT, RowId, Target};
use super::{Model, SegmentId, StateId};

/// One touchpoint visited by a customer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// The state visited.
    pub state: StateId,
    /// Time spent there before the next touchpoint, in seconds.
    pub dwell_s: f64,
    /// Conversion value; 0 unless the state is a conversion.
    pub value: f64,
}

/// Why a journey ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JourneyEnd {
    /// The customer reached `exit`.
    Exit,
    /// The journey reached `max_steps` and was cut.
    Truncated,
}

/// A journey in progress: an iterator of [`Step`]s.
pub struct Journey<'m, 'r, R: ?Sized> {
    model: &'m Model,
    rows: &'m [RowId],
    rng: &'r mut R,
    segment: SegmentId,
    next: Target,
    steps: u32,
    end: Option<JourneyEnd>,
}

impl Model {
    /// Starts a journey: draws the segment (when there are several) and
    /// the entry state from `rng`.
    pub fn walk<'m, 'r, R: Rng + ?Sized>(&'m self, rng: &'r mut R) -> Journey<'m, 'r, R> {
        let (segment, next) = self.draw_start(rng);
        self.walk_resumed(rng, segment, next, 0)
    }
}

impl Model {
    /// Starts a journey of segment `segment` at `entry` (a state, or
    /// [`EXIT`] for a customer who arrives and leaves at once): for a
    /// caller that draws who arrives where itself, as a forecast does
    /// when spend moves arrivals over time.
    pub fn walk_from<'m, 'r, R: Rng + ?Sized>(
        &'m self,
        rng: &'r mut R,
        segment: SegmentId,
        entry: Target,
    ) -> Journey<'m, 'r, R> {
        let seg = &self.segments[segment.0 as usize];
        Journey { model: self, rows: &seg.next_rows, rng, segment, next: entry, steps: 0, end: None }
    }
}

impl<R: Rng + ?Sized> Journey<'_, '_, R> {
    /// The customer's segment.
    pub fn segment(&self) -> SegmentId {
        self.segment
    }

    /// How the journey ended; `None` while it goes on.
    pub fn end(&self) -> Option<JourneyEnd> {
        self.end
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u32 {
        self.steps
    }

    /// Replaces the next state the journey drew with `next` (a state, or
    /// [`EXIT`]): for a caller whose transitions vary over time, as a
    /// forecast's do when spend moves them.
    pub fn redirect(&mut self, next: Target) {
        self.next = next;
    }
}

impl Model {
    /// Resumes a journey of segment `segment` that has taken `steps` steps
    /// and goes to `next`: for a caller that walked the first steps
    /// itself (a what-if reusing the baseline's draws).
    pub fn walk_resumed<'m, 'r, R: Rng + ?Sized>(
        &'m self,
        rng: &'r mut R,
        segment: SegmentId,
        next: Target,
        steps: u32,
    ) -> Journey<'m, 'r, R> {
        let seg = &self.segments[segment.0 as usize];
        Journey { model: self, rows: &seg.next_rows, rng, segment, next, steps, end: None }
    }

    /// The segment and first target [`Model::walk`] draws from `rng`.
    pub fn draw_start<R: Rng + ?Sized>(&self, rng: &mut R) -> (SegmentId, Target) {
        let segment =
            if self.segments.len() > 1 { self.rows.sample(self.segment_row, rng) as usize } else { 0 };
        (SegmentId(segment as u8), self.rows.sample(self.segments[segment].entry_row, rng))
    }

    /// The next target after state `state` of segment `segment`, as a
    /// journey draws it (one draw of `rng`).
    #[inline]
    pub fn draw_next<R: Rng + ?Sized>(&self, segment: SegmentId, state: StateId, rng: &mut R) -> Target {
        self.rows.sample(self.segments[segment.0 as usize].next_rows[state.0 as usize], rng)
    }
}

impl<R: Rng + ?Sized> Journey<'_, '_, R> {
    /// The next step, handing `before_next` the generator as it is after
    /// the step's dwell and value draws and before the next-state draw.
    #[inline]
    pub fn next_with(&mut self, before_next: impl FnOnce(&R)) -> Option<Step> {
        if self.end.is_some() {
            return None;
        }
        if self.next == EXIT {
            self.end = Some(JourneyEnd::Exit);
            return None;
        }
        if self.steps == self.model.max_steps {
            self.end = Some(JourneyEnd::Truncated);
            return None;
        }
        let index = self.next as usize;
        let state = &self.model.states[index];
        let dwell_s = state.dwell.sample(self.rng);
        let value = match &state.value {
            Some(v) => v.sample(self.rng),
            None => 0.0,
        };
        before_next(self.rng);
        self.next = self.model.rows.sample(self.rows[index], self.rng);
        self.steps += 1;
        Some(Step { state: StateId(index as u16), dwell_s, value })
    }
}

impl<R: Rng + ?Sized> Iterator for Journey<'_, '_, R> {
    type Item = Step;

    #[inline]
    fn next(&mut self) -> Option<Step> {
        self.next_with(|_| {})
    }
}
