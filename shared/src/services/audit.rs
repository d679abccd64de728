//! An organization's audit log, newest first: for its owner and admins (and platform admins).

use super::{Ctx, access};
use crate::domain::requests::ListAudit;
use crate::domain::{AuditEntry, Page};
use crate::error::{ServiceError, ServiceResult};

/// The page is read in the caller's wave; it (and any error reading it) is used only once
/// the caller's authority is checked.
pub async fn list(ctx: &Ctx<'_>, req: ListAudit) -> ServiceResult<Page<AuditEntry>> {
    let app = ctx.app;
    let read = async {
        match &req.org {
            Some(id) => Ok(Some(
                app.store
                    .list_audit(id, req.page.limit.get(), req.page.cursor.as_ref())
                    .await,
            )),
            None => Ok(None),
        }
    };
    let (caller, org, page) = ctx.caller_org_and(req.org, read).await?;
    let org = org.ok_or(ServiceError::NotFound)?;
    access::manager(&caller, &org.id)?;
    page.ok_or(ServiceError::NotFound)?
}
