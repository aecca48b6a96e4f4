//! The decision lifecycle: which lineage entries a decision's state admits, and the state each
//! one leaves (`docs/log-format.md` §5.9).
//!
//! A decision's status is derived from its entries in log order; it is never hashed. The writer
//! and the verifier MUST agree on which entries a state admits, or the service could append an
//! entry that an auditor's replay would call impossible, or refuse one the specification allows.
//! So the rules live here, once: the writer checks every lineage request with
//! [`Lifecycle::apply`] before it appends, and [`crate::LineageChecker`] replays the same
//! function over every entry of the log, failing on the first one the writer would have refused.
//!
//! The rules, in short: nothing but erasure and publication follows a rescission or a
//! supersession; a decision is called in once, from `in_force`; only a called-in decision is
//! referred back or to council; a call-in is upheld from `called_in` or `referred_to_council`; a
//! rescinded decision supersedes no other, nor does the one a decision itself superseded.
//!
//! Only what the rules read is kept: the status, whether a call-in ever happened, and the
//! successor of a superseded decision. The other checks of a request — its fields, its dates,
//! whether a value is still there to erase — are the writer's (`src/lineage.rs`), and the
//! references between entries are [`crate::lineage`]'s.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::entry::EntryKind;

/// Where a decision stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Standing (possibly after a call-in was upheld).
    #[default]
    InForce,
    /// Called in by scrutiny; not in effect until the call-in is resolved.
    CalledIn,
    /// Scrutiny referred it back to the decision maker for reconsideration.
    ReferredBack,
    /// Scrutiny referred it to full council.
    ReferredToCouncil,
    /// Rescinded.
    Rescinded,
    /// Superseded by another decision.
    Superseded,
}

impl Status {
    /// Every status, in the order §5.9 lists them.
    pub const ALL: [Status; 6] = [
        Status::InForce,
        Status::CalledIn,
        Status::ReferredBack,
        Status::ReferredToCouncil,
        Status::Rescinded,
        Status::Superseded,
    ];

    /// The spelling used in JSON, filters and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::InForce => "in_force",
            Status::CalledIn => "called_in",
            Status::ReferredBack => "referred_back",
            Status::ReferredToCouncil => "referred_to_council",
            Status::Rescinded => "rescinded",
            Status::Superseded => "superseded",
        }
    }

    /// The status spelt `text`.
    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether the decision has ended: nothing but erasure and publication may follow.
    pub fn is_final(self) -> bool {
        matches!(self, Status::Rescinded | Status::Superseded)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `status` of a `decision.call_in` entry (§5.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallInStatus {
    /// Scrutiny called the decision in.
    CalledIn,
    /// Scrutiny (or council) let it stand; it takes effect on the entry's `on` date.
    Upheld,
    /// Referred back to the decision maker.
    ReferredBack,
    /// Referred to full council.
    ReferredToCouncil,
}

impl CallInStatus {
    /// Every call-in status, in the order §5.4 lists them.
    pub const ALL: [CallInStatus; 4] = [
        CallInStatus::CalledIn,
        CallInStatus::Upheld,
        CallInStatus::ReferredBack,
        CallInStatus::ReferredToCouncil,
    ];

    /// The spelling used in entries.
    pub fn as_str(self) -> &'static str {
        match self {
            CallInStatus::CalledIn => "called_in",
            CallInStatus::Upheld => "upheld",
            CallInStatus::ReferredBack => "referred_back",
            CallInStatus::ReferredToCouncil => "referred_to_council",
        }
    }

    /// The call-in status spelt `text`.
    pub fn parse(text: &str) -> Option<CallInStatus> {
        CallInStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl fmt::Display for CallInStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A lineage entry as the lifecycle sees it: its kind, and the members the rules read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// `decision.amended`.
    Amended,
    /// `decision.outcome_reported`.
    OutcomeReported,
    /// `decision.call_in` with its `status`.
    CallIn(CallInStatus),
    /// `decision.rescinded`.
    Rescinded,
    /// `decision.superseded` of this decision, by the decision `by`.
    Superseded {
        /// The entry's `superseded_by`.
        by: &'a str,
    },
    /// The other side of a `decision.superseded` entry: this decision is named as the successor
    /// of decision `predecessor`. It leaves this decision's state as it was.
    Supersedes {
        /// The entry's own `decision_id`.
        predecessor: &'a str,
    },
    /// `decision.redacted`.
    Redacted,
    /// `decision.published`.
    Published,
}

impl Event<'_> {
    /// The kind of entry this event is read from.
    pub fn kind(&self) -> EntryKind {
        match self {
            Event::Amended => EntryKind::DecisionAmended,
            Event::OutcomeReported => EntryKind::OutcomeReported,
            Event::CallIn(_) => EntryKind::CallIn,
            Event::Rescinded => EntryKind::DecisionRescinded,
            Event::Superseded { .. } | Event::Supersedes { .. } => EntryKind::DecisionSuperseded,
            Event::Redacted => EntryKind::DecisionRedacted,
            Event::Published => EntryKind::DecisionPublished,
        }
    }
}

/// Why a decision's state does not admit an entry. Its `Display` is the message the service
/// answers the refused request with (a 409 problem).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The decision is rescinded or superseded, and the entry is neither an erasure nor a
    /// publication.
    #[error("decision {decision_id} is {status}; {}", ended_reason(*.kind))]
    Ended {
        /// The decision.
        decision_id: String,
        /// Its final status.
        status: Status,
        /// The kind of entry refused.
        kind: EntryKind,
    },
    /// The call-in table does not lead from the decision's status to this call-in status.
    #[error(
        "decision {decision_id} cannot move to call-in status {to}: {}",
        if *.to == CallInStatus::CalledIn && *.called_in_before {
            "a decision is called in once".to_owned()
        } else {
            format!("the decision is {}", .from)
        }
    )]
    CallIn {
        /// The decision.
        decision_id: String,
        /// The call-in status refused.
        to: CallInStatus,
        /// The decision's status.
        from: Status,
        /// Whether it had been called in before.
        called_in_before: bool,
    },
    /// The named successor of a supersession is rescinded.
    #[error("decision {successor} is rescinded and cannot supersede another")]
    SuccessorRescinded {
        /// The decision named by `superseded_by`.
        successor: String,
    },
    /// The named successor of a supersession was itself superseded by the decision it would
    /// supersede: the two would replace each other.
    #[error("decision {successor} is itself superseded by {predecessor}")]
    SuccessorSupersededByPredecessor {
        /// The decision named by `superseded_by`.
        successor: String,
        /// The decision it would supersede.
        predecessor: String,
    },
}

/// What the refusal of an entry on an ended decision says, by the entry's kind.
fn ended_reason(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::DecisionAmended => "it can no longer be amended",
        EntryKind::OutcomeReported => "outcomes are reported on decisions that stand",
        EntryKind::CallIn => "it can no longer be called in",
        EntryKind::DecisionRescinded => "it cannot be rescinded",
        EntryKind::DecisionSuperseded => "it cannot be superseded",
        // Erasure and publication are admitted in every state, and the other kinds are not
        // lineage of a decision: `apply` never refuses them as ended.
        _ => "it takes no more lineage",
    }
}

/// A decision's state as far as the lifecycle rules read it.
///
/// `superseded_by` is `Some` exactly when `status` is [`Status::Superseded`]; [`Lifecycle::apply`]
/// keeps it so, and a writer that builds a `Lifecycle` from its read view MUST too.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Lifecycle {
    /// Where the decision stands.
    pub status: Status,
    /// Whether any `decision.call_in` entry has been admitted for it.
    pub called_in_before: bool,
    /// The decision that superseded it.
    pub superseded_by: Option<String>,
}

impl Lifecycle {
    /// The state a `decision.recorded` entry starts: in force, never called in.
    pub fn recorded() -> Lifecycle {
        Lifecycle::default()
    }

    /// The state after `event` happens to the decision `decision_id`, or why its current state
    /// does not admit it. `decision_id` only names the decision in the refusal.
    ///
    /// Erasure and publication are admitted in every state and change nothing. On a rescinded
    /// or superseded decision every other event is refused. Otherwise amendments and outcomes
    /// change nothing, a rescission or a supersession ends the decision, and a call-in follows
    /// this table (any other pair is refused):
    ///
    /// | status                | call-in status        | new status            |
    /// |-----------------------|-----------------------|-----------------------|
    /// | `in_force`, never called in | `called_in`     | `called_in`           |
    /// | `called_in`           | `upheld`              | `in_force`            |
    /// | `called_in`           | `referred_back`       | `referred_back`       |
    /// | `called_in`           | `referred_to_council` | `referred_to_council` |
    /// | `referred_to_council` | `upheld`              | `in_force`            |
    ///
    /// [`Event::Supersedes`] is judged on the successor: refused when it is rescinded, or when it
    /// was superseded by `predecessor`; otherwise its state is unchanged (a successor that is
    /// itself superseded by a third decision, or ended by rescission later, is no concern here).
    pub fn apply(&self, decision_id: &str, event: Event<'_>) -> Result<Lifecycle, Refusal> {
        match event {
            Event::Redacted | Event::Published => return Ok(self.clone()),
            Event::Supersedes { predecessor } => {
                if self.status == Status::Rescinded {
                    return Err(Refusal::SuccessorRescinded {
                        successor: decision_id.to_owned(),
                    });
                }
                if self.superseded_by.as_deref() == Some(predecessor) {
                    return Err(Refusal::SuccessorSupersededByPredecessor {
                        successor: decision_id.to_owned(),
                        predecessor: predecessor.to_owned(),
                    });
                }
                return Ok(self.clone());
            }
            _ => {}
        }
        if self.status.is_final() {
            return Err(Refusal::Ended {
                decision_id: decision_id.to_owned(),
                status: self.status,
                kind: event.kind(),
            });
        }
        Ok(match event {
            Event::Rescinded => Lifecycle {
                status: Status::Rescinded,
                ..self.clone()
            },
            Event::Superseded { by } => Lifecycle {
                status: Status::Superseded,
                superseded_by: Some(by.to_owned()),
                ..self.clone()
            },
            Event::CallIn(to) => {
                let status = match (to, self.status) {
                    (CallInStatus::CalledIn, Status::InForce) if !self.called_in_before => {
                        Status::CalledIn
                    }
                    (CallInStatus::Upheld, Status::CalledIn | Status::ReferredToCouncil) => {
                        Status::InForce
                    }
                    (CallInStatus::ReferredBack, Status::CalledIn) => Status::ReferredBack,
                    (CallInStatus::ReferredToCouncil, Status::CalledIn) => {
                        Status::ReferredToCouncil
                    }
                    _ => {
                        return Err(Refusal::CallIn {
                            decision_id: decision_id.to_owned(),
                            to,
                            from: self.status,
                            called_in_before: self.called_in_before,
                        });
                    }
                };
                Lifecycle {
                    status,
                    called_in_before: true,
                    superseded_by: None,
                }
            }
            _ => self.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "0193a1b2-0000-7000-8000-00000000000a";
    const B: &str = "0193a1b2-0000-7000-8000-00000000000b";

    fn at(status: Status, called_in_before: bool) -> Lifecycle {
        Lifecycle {
            status,
            called_in_before,
            superseded_by: (status == Status::Superseded).then(|| B.to_owned()),
        }
    }

    /// Applies `events` in order from a newly recorded decision.
    fn replay(events: &[Event<'_>]) -> Result<Lifecycle, Refusal> {
        events
            .iter()
            .try_fold(Lifecycle::recorded(), |state, &event| state.apply(A, event))
    }

    const NON_CALL_IN: [Event<'static>; 5] = [
        Event::Amended,
        Event::OutcomeReported,
        Event::Rescinded,
        Event::Superseded { by: B },
        Event::Redacted,
    ];

    #[test]
    fn a_recorded_decision_is_in_force_and_was_never_called_in() {
        assert_eq!(Lifecycle::recorded(), at(Status::InForce, false));
    }

    #[test]
    fn statuses_keep_their_spellings() {
        let spelt: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            spelt,
            [
                "in_force",
                "called_in",
                "referred_back",
                "referred_to_council",
                "rescinded",
                "superseded"
            ]
        );
        for status in Status::ALL {
            assert_eq!(Status::parse(status.as_str()), Some(status));
            assert_eq!(
                serde_json::to_value(status).expect("serialises"),
                status.as_str()
            );
        }
        for status in CallInStatus::ALL {
            assert_eq!(CallInStatus::parse(status.as_str()), Some(status));
            assert_eq!(
                serde_json::to_value(status).expect("serialises"),
                status.as_str()
            );
        }
        assert_eq!(Status::parse("In_force"), None);
        assert_eq!(CallInStatus::parse("rescinded"), None);
    }

    #[test]
    fn a_decision_that_stands_takes_amendments_outcomes_erasures_and_publications_unchanged() {
        for status in [
            Status::InForce,
            Status::CalledIn,
            Status::ReferredBack,
            Status::ReferredToCouncil,
        ] {
            for called_in_before in [false, true] {
                let state = at(status, called_in_before);
                for event in [
                    Event::Amended,
                    Event::OutcomeReported,
                    Event::Redacted,
                    Event::Published,
                ] {
                    assert_eq!(state.apply(A, event).as_ref(), Ok(&state), "{event:?}");
                }
            }
        }
    }

    #[test]
    fn rescission_and_supersession_end_a_decision_that_stands() {
        for status in [
            Status::InForce,
            Status::CalledIn,
            Status::ReferredBack,
            Status::ReferredToCouncil,
        ] {
            let state = at(status, status != Status::InForce);
            assert_eq!(
                state.apply(A, Event::Rescinded).map(|s| s.status),
                Ok(Status::Rescinded)
            );
            let superseded = state
                .apply(A, Event::Superseded { by: B })
                .expect("admitted");
            assert_eq!(superseded.status, Status::Superseded);
            assert_eq!(superseded.superseded_by.as_deref(), Some(B));
        }
    }

    #[test]
    fn an_ended_decision_takes_only_erasures_and_publications() {
        for status in [Status::Rescinded, Status::Superseded] {
            let state = at(status, false);
            assert_eq!(state.apply(A, Event::Redacted).as_ref(), Ok(&state));
            assert_eq!(state.apply(A, Event::Published).as_ref(), Ok(&state));
            for event in NON_CALL_IN
                .into_iter()
                .filter(|e| *e != Event::Redacted)
                .chain(CallInStatus::ALL.map(Event::CallIn))
            {
                assert_eq!(
                    state.apply(A, event),
                    Err(Refusal::Ended {
                        decision_id: A.into(),
                        status,
                        kind: event.kind()
                    }),
                    "{status} {event:?}"
                );
            }
        }
    }

    #[test]
    fn refusals_of_ended_decisions_say_what_can_no_longer_happen() {
        let rescinded = at(Status::Rescinded, false);
        let message = |event| rescinded.apply(A, event).expect_err("refused").to_string();
        assert_eq!(
            message(Event::Amended),
            format!("decision {A} is rescinded; it can no longer be amended")
        );
        assert_eq!(
            message(Event::OutcomeReported),
            format!("decision {A} is rescinded; outcomes are reported on decisions that stand")
        );
        assert_eq!(
            message(Event::CallIn(CallInStatus::CalledIn)),
            format!("decision {A} is rescinded; it can no longer be called in")
        );
        assert_eq!(
            message(Event::Rescinded),
            format!("decision {A} is rescinded; it cannot be rescinded")
        );
        assert_eq!(
            message(Event::Superseded { by: B }),
            format!("decision {A} is rescinded; it cannot be superseded")
        );
    }

    #[test]
    fn call_ins_follow_the_table() {
        use CallInStatus as C;
        use Status as S;
        let admitted = [
            (S::InForce, false, C::CalledIn, S::CalledIn),
            (S::CalledIn, true, C::Upheld, S::InForce),
            (S::CalledIn, true, C::ReferredBack, S::ReferredBack),
            (
                S::CalledIn,
                true,
                C::ReferredToCouncil,
                S::ReferredToCouncil,
            ),
            (S::ReferredToCouncil, true, C::Upheld, S::InForce),
        ];
        // Every reachable state: only an in-force decision may never have been called in.
        let states = [
            (S::InForce, false),
            (S::InForce, true),
            (S::CalledIn, true),
            (S::ReferredBack, true),
            (S::ReferredToCouncil, true),
        ];
        for (from, called_in_before) in states {
            for to in C::ALL {
                let result = at(from, called_in_before).apply(A, Event::CallIn(to));
                let admitted = admitted
                    .iter()
                    .find(|(f, b, t, _)| (*f, *b, *t) == (from, called_in_before, to));
                match admitted {
                    Some((.., next)) => assert_eq!(
                        result,
                        Ok(at(*next, true)),
                        "{from} {called_in_before} {to}"
                    ),
                    None => assert_eq!(
                        result,
                        Err(Refusal::CallIn {
                            decision_id: A.into(),
                            to,
                            from,
                            called_in_before
                        }),
                        "{from} {called_in_before} {to}"
                    ),
                }
            }
        }
    }

    #[test]
    fn a_decision_is_called_in_once() {
        let upheld = replay(&[
            Event::CallIn(CallInStatus::CalledIn),
            Event::CallIn(CallInStatus::Upheld),
        ])
        .expect("called in, then upheld");
        assert_eq!(upheld, at(Status::InForce, true));
        let refusal = upheld
            .apply(A, Event::CallIn(CallInStatus::CalledIn))
            .expect_err("a second call-in");
        assert_eq!(
            refusal.to_string(),
            format!(
                "decision {A} cannot move to call-in status called_in: a decision is called in once"
            )
        );
    }

    #[test]
    fn a_call_in_refused_by_status_names_the_status() {
        let refusal = Lifecycle::recorded()
            .apply(A, Event::CallIn(CallInStatus::Upheld))
            .expect_err("upheld without a call-in");
        assert_eq!(
            refusal.to_string(),
            format!("decision {A} cannot move to call-in status upheld: the decision is in_force")
        );
        let referred_back = replay(&[
            Event::CallIn(CallInStatus::CalledIn),
            Event::CallIn(CallInStatus::ReferredBack),
        ])
        .expect("referred back");
        assert_eq!(
            referred_back
                .apply(A, Event::CallIn(CallInStatus::Upheld))
                .expect_err("nothing resolves a referral back")
                .to_string(),
            format!(
                "decision {A} cannot move to call-in status upheld: the decision is referred_back"
            )
        );
    }

    #[test]
    fn a_successor_must_not_be_rescinded_nor_superseded_by_its_predecessor() {
        let supersedes = Event::Supersedes { predecessor: A };
        for state in [
            at(Status::InForce, false),
            at(Status::CalledIn, true),
            at(Status::ReferredBack, true),
            at(Status::ReferredToCouncil, true),
        ] {
            assert_eq!(state.apply(B, supersedes).as_ref(), Ok(&state));
        }
        // Superseded by a third decision, it may still supersede A.
        let by_c = Lifecycle {
            status: Status::Superseded,
            called_in_before: false,
            superseded_by: Some("0193a1b2-0000-7000-8000-00000000000c".into()),
        };
        assert_eq!(by_c.apply(B, supersedes).as_ref(), Ok(&by_c));

        let refusal = at(Status::Rescinded, false)
            .apply(B, supersedes)
            .expect_err("a rescinded successor");
        assert_eq!(
            refusal.to_string(),
            format!("decision {B} is rescinded and cannot supersede another")
        );
        let by_a = Lifecycle {
            superseded_by: Some(A.into()),
            ..at(Status::Superseded, false)
        };
        let refusal = by_a.apply(B, supersedes).expect_err("mutual supersession");
        assert_eq!(
            refusal,
            Refusal::SuccessorSupersededByPredecessor {
                successor: B.into(),
                predecessor: A.into()
            }
        );
        assert_eq!(
            refusal.to_string(),
            format!("decision {B} is itself superseded by {A}")
        );
    }

    #[test]
    fn a_second_rescission_and_an_outcome_after_rescission_are_refused() {
        assert!(matches!(
            replay(&[Event::Rescinded, Event::Rescinded]),
            Err(Refusal::Ended {
                status: Status::Rescinded,
                kind: EntryKind::DecisionRescinded,
                ..
            })
        ));
        assert!(matches!(
            replay(&[Event::Rescinded, Event::OutcomeReported]),
            Err(Refusal::Ended {
                status: Status::Rescinded,
                kind: EntryKind::OutcomeReported,
                ..
            })
        ));
        assert!(matches!(
            replay(&[Event::Superseded { by: B }, Event::Rescinded]),
            Err(Refusal::Ended {
                status: Status::Superseded,
                ..
            })
        ));
        assert_eq!(
            replay(&[Event::Rescinded, Event::Redacted, Event::Published]).map(|s| s.status),
            Ok(Status::Rescinded)
        );
    }
}
