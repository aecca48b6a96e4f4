//! `/api/v1/decisions/{id}/receipt`: an offline proof bundle for every entry of a decision.
//!
//! A receipt holds, for each entry of the decision, its canonical entry, the disclosures the
//! caller may see, and its inclusion proof in the tree of a signed checkpoint, plus that
//! checkpoint. With the log's verifier key it can be checked years later with no server: hash
//! each entry, walk its proof to the checkpoint's root, and check the checkpoint's signature
//! (`decision-log verify --receipt FILE --vkey VKEY`). The recorded entry is also offered in the
//! C2SP tlog-proof text form, with the canonical entry as its `extra` data. The formats are
//! defined in [`crate::receipt`].

use actix_web::{HttpResponse, web};

use super::auth::Caller;
use super::error::Problem;
use super::log::current_checkpoint;
use super::{ApiError, AppState};
use crate::receipt::{RECEIPT_FORMAT, Receipt, ReceiptEntry, ReceiptProof};

async fn build(state: &AppState, caller: &Caller, id: &uuid::Uuid) -> Result<Receipt, ApiError> {
    // A decision's existence and hashed entries are public whatever its classification; the
    // disclosures served with them are those the caller may see. A receipt is about one decision,
    // so a reader cleared for it (the secretariat of its body, say) gets all of them.
    let row = state
        .store
        .decision(&id.to_string())
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no decision {id}")))?;
    let cleared = caller.may_read(row.classification, &row.record.body);
    let stored = state.store.entries_of_decision(&id.to_string()).await?;
    let checkpoint = current_checkpoint(state).await?;
    let mut entries = Vec::with_capacity(stored.len());
    for s in stored {
        let proof = state
            .store
            .inclusion_proof(s.leaf_index, checkpoint.tree_size)
            .await?
            .map_err(|e| ApiError::LogInconsistent(e.to_string()))?;
        let entry = super::log::to_dto(s, |v| cleared || caller.may_see(v))?;
        entries.push(ReceiptEntry {
            leaf_index: entry.leaf_index,
            entry_hash: proof.leaf_hash,
            entry: entry.entry,
            disclosures: entry.disclosures,
            inclusion_proof: ReceiptProof {
                leaf_index: proof.leaf_index,
                tree_size: proof.tree_size,
                hashes: proof.hashes,
            },
        });
    }
    Ok(Receipt {
        format: RECEIPT_FORMAT.to_owned(),
        decision_id: *id,
        origin: state.signer.name().to_owned(),
        checkpoint: checkpoint.note,
        entries,
    })
}

/// An offline receipt for a decision.
#[utoipa::path(
    get, path = "/api/v1/decisions/{id}/receipt", tag = "decisions", operation_id = "getDecisionReceipt",
    params(("id" = uuid::Uuid, Path, description = "The decision's id")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Every entry of the decision with its inclusion proof, and the signed checkpoint", body = Receipt),
        (status = 401, description = "A bearer token was given but is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No decision with that id", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "An unexpected server error; the cause is logged, not sent", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unavailable or the log inconsistent; retry after the `Retry-After` seconds", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_receipt(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let receipt = build(&state, &caller, &id).await?;
    Ok(HttpResponse::Ok()
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"decision-{id}.receipt.json\""),
        ))
        .json(receipt))
}

/// The decision's recorded entry as a C2SP tlog-proof.
///
/// `c2sp.org/tlog-proof@v1`, with the canonical entry (base64) as `extra`, the leaf index, the
/// inclusion proof (base64, one hash per line), a blank line and the signed checkpoint.
#[utoipa::path(
    get, path = "/api/v1/decisions/{id}/receipt.tlog-proof", tag = "decisions", operation_id = "getDecisionTlogProof",
    params(("id" = uuid::Uuid, Path, description = "The decision's id")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The tlog-proof text", content_type = "text/plain; charset=utf-8", body = String),
        (status = 401, description = "A bearer token was given but is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No decision with that id", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "An unexpected server error; the cause is logged, not sent", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unavailable or the log inconsistent; retry after the `Retry-After` seconds", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_tlog_proof(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let receipt = build(&state, &caller, &id).await?;
    let text = receipt
        .to_tlog_proof()
        .ok_or_else(|| ApiError::LogInconsistent(format!("decision {id} has no entries")))?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"decision-{id}.tlog-proof\""),
        ))
        .body(text))
}
