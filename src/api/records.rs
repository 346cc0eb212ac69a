//! `kyso.v1.RecordsService`: units, the document ledger, reports and exports.

use super::ApiError;
use super::proto::{self, records_service_server::RecordsService};
use crate::datetime::VietnamDate;
use crate::records::{
    Channel, DateRange, Direction, DocumentEntry, DocumentId, DocumentRecord, Fact, RecordOutcome,
    RecordStore,
};
use crate::report::{self, Metric, ReportRequest, Scope, Threshold};
use crate::units::{Leader, LeaderId, Unit, UnitCode, UnitGroup, UnitLevel};
use std::pin::Pin;
use std::time::SystemTime;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

/// Most facts one `RecordDocuments` call takes.
pub const MAX_BATCH: usize = 10_000;

/// Entries read from the database per page of an export.
const EXPORT_PAGE: u32 = 2_000;

/// The records service over one store.
#[derive(Debug, Clone)]
pub struct RecordsApi {
    store: RecordStore,
    default_threshold: Threshold,
}

impl RecordsApi {
    /// A service over `store`; reports flag units below `default_threshold`
    /// unless a request names its own.
    pub fn new(store: RecordStore, default_threshold: Threshold) -> Self {
        Self {
            store,
            default_threshold,
        }
    }
}

fn invalid(field: &'static str, reason: impl ToString) -> ApiError {
    ApiError::InvalidField {
        field,
        reason: reason.to_string(),
    }
}

/// The proto level of a unit level.
pub(super) fn level_to_proto(level: UnitLevel) -> proto::UnitLevel {
    match level {
        UnitLevel::Province => proto::UnitLevel::Province,
        UnitLevel::District => proto::UnitLevel::District,
        UnitLevel::Commune => proto::UnitLevel::Commune,
    }
}

/// The proto group of a unit group.
pub(super) fn group_to_proto(group: UnitGroup) -> proto::UnitGroup {
    match group {
        UnitGroup::ProvinceOffice => proto::UnitGroup::ProvinceOffice,
        UnitGroup::Department => proto::UnitGroup::Department,
        UnitGroup::District => proto::UnitGroup::District,
        UnitGroup::Commune => proto::UnitGroup::Commune,
    }
}

fn level_from_proto(value: i32) -> Option<UnitLevel> {
    match proto::UnitLevel::try_from(value).ok()? {
        proto::UnitLevel::Province => Some(UnitLevel::Province),
        proto::UnitLevel::District => Some(UnitLevel::District),
        proto::UnitLevel::Commune => Some(UnitLevel::Commune),
        proto::UnitLevel::Unspecified => None,
    }
}

fn group_from_proto(value: i32) -> Option<UnitGroup> {
    match proto::UnitGroup::try_from(value).ok()? {
        proto::UnitGroup::ProvinceOffice => Some(UnitGroup::ProvinceOffice),
        proto::UnitGroup::Department => Some(UnitGroup::Department),
        proto::UnitGroup::District => Some(UnitGroup::District),
        proto::UnitGroup::Commune => Some(UnitGroup::Commune),
        proto::UnitGroup::Unspecified => None,
    }
}

fn unit_to_proto(unit: &Unit) -> proto::Unit {
    proto::Unit {
        code: unit.code.to_string(),
        name: unit.name.clone(),
        level: level_to_proto(unit.level).into(),
        group: group_to_proto(unit.group).into(),
        parent: unit
            .parent
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        leaders: unit
            .leaders
            .iter()
            .map(|leader| proto::Leader {
                id: leader.id.to_string(),
                full_name: leader.full_name.clone(),
            })
            .collect(),
    }
}

fn unit_from_proto(unit: proto::Unit) -> Result<Unit, ApiError> {
    let code = UnitCode::parse(&unit.code).map_err(|e| invalid("units.code", e))?;
    let group = group_from_proto(unit.group).ok_or_else(|| {
        invalid(
            "units.group",
            format!("unit {code}: a group is required (province_office, department, district or commune)"),
        )
    })?;
    let level = match level_from_proto(unit.level) {
        Some(level) => level,
        None => group.level(),
    };
    let parent = if unit.parent.is_empty() {
        None
    } else {
        Some(UnitCode::parse(&unit.parent).map_err(|e| invalid("units.parent", e))?)
    };
    let leaders = unit
        .leaders
        .into_iter()
        .map(|leader| {
            Ok(Leader {
                id: LeaderId::parse(&leader.id).map_err(|e| invalid("units.leaders.id", e))?,
                full_name: leader.full_name,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(Unit {
        code,
        name: unit.name,
        level,
        group,
        parent,
        leaders,
    })
}

fn outcome_to_proto(outcome: RecordOutcome) -> proto::RecordOutcome {
    match outcome {
        RecordOutcome::Created => proto::RecordOutcome::Created,
        RecordOutcome::Updated => proto::RecordOutcome::Updated,
        RecordOutcome::Unchanged => proto::RecordOutcome::Unchanged,
    }
}

/// A reported document parsed into a ledger fact.
fn record_from_proto(
    request: proto::RecordDocumentRequest,
    now: SystemTime,
) -> Result<DocumentRecord, ApiError> {
    let unit = UnitCode::parse(&request.unit_code).map_err(|e| invalid("unit_code", e))?;
    let document_id =
        DocumentId::parse(&request.document_id).map_err(|e| invalid("document_id", e))?;
    let direction = match proto::Direction::try_from(request.direction) {
        Ok(proto::Direction::Outgoing) => Direction::Outgoing,
        Ok(proto::Direction::Incoming) => Direction::Incoming,
        _ => {
            return Err(invalid(
                "direction",
                "must be DIRECTION_OUTGOING or DIRECTION_INCOMING",
            ));
        }
    };
    let channel = match proto::Channel::try_from(request.channel) {
        Ok(proto::Channel::Electronic) => Channel::Electronic,
        Ok(proto::Channel::Paper) => Channel::Paper,
        _ => {
            return Err(invalid(
                "channel",
                "must be CHANNEL_ELECTRONIC or CHANNEL_PAPER",
            ));
        }
    };
    if direction == Direction::Incoming && (request.organisation_signed || request.leader_signed) {
        return Err(invalid(
            "organisation_signed",
            "signatures are recorded for outgoing documents only; incoming documents count \
             as validly signed through Verify",
        ));
    }
    let at = match request.at {
        Some(at) => SystemTime::try_from(at).map_err(|e| invalid("at", e))?,
        None => now,
    };
    Ok(DocumentRecord {
        unit,
        document_id,
        at,
        fact: Fact::Reported {
            direction,
            channel,
            organisation_signed: request.organisation_signed,
            leader_signed: request.leader_signed,
        },
    })
}

/// Parses a period given as from/to dates or a month.
fn period(from: &str, to: &str, month: &str) -> Result<DateRange, ApiError> {
    if !month.is_empty() {
        if !from.is_empty() || !to.is_empty() {
            return Err(invalid("month", "give either a month or from/to, not both"));
        }
        let (first, last) = VietnamDate::parse_month(month)
            .ok_or_else(|| invalid("month", format!("{month:?} is not a month like 2026-04")))?;
        return DateRange::new(first, last).map_err(ApiError::from);
    }
    let date = |field: &'static str, text: &str| {
        VietnamDate::parse(text).ok_or_else(|| {
            invalid(
                field,
                format!("{text:?} is not a date like 2026-04-30 (Vietnam time)"),
            )
        })
    };
    if from.is_empty() || to.is_empty() {
        return Err(invalid(
            "from",
            "a period is required: from and to (YYYY-MM-DD), or month (YYYY-MM)",
        ));
    }
    DateRange::new(date("from", from)?, date("to", to)?).map_err(ApiError::from)
}

fn report_request(
    request: proto::SigningReportRequest,
    default_threshold: Threshold,
) -> Result<ReportRequest, ApiError> {
    let range = period(&request.from, &request.to, &request.month)?;
    let level = level_from_proto(request.level);
    let group = group_from_proto(request.group);
    let scopes = usize::from(level.is_some())
        + usize::from(group.is_some())
        + usize::from(!request.unit_code.is_empty());
    if scopes > 1 {
        return Err(invalid(
            "unit_code",
            "give at most one of level, group and unit_code",
        ));
    }
    let scope = if let Some(level) = level {
        Scope::Level(level)
    } else if let Some(group) = group {
        Scope::Group(group)
    } else if !request.unit_code.is_empty() {
        Scope::Unit(UnitCode::parse(&request.unit_code).map_err(|e| invalid("unit_code", e))?)
    } else {
        Scope::Province
    };
    let rank_by = match proto::Metric::try_from(request.rank_by) {
        Ok(proto::Metric::Unspecified | proto::Metric::OrganisationSigned) | Err(_) => {
            Metric::OrganisationSigned
        }
        Ok(proto::Metric::LeaderSigned) => Metric::LeaderSigned,
        Ok(proto::Metric::OutgoingElectronic) => Metric::OutgoingElectronic,
        Ok(proto::Metric::IncomingElectronic) => Metric::IncomingElectronic,
    };
    let threshold = if request.threshold_percent.is_empty() {
        default_threshold
    } else {
        Threshold::parse(&request.threshold_percent).map_err(|e| invalid("threshold_percent", e))?
    };
    Ok(ReportRequest {
        range,
        scope,
        threshold,
        rank_by,
    })
}

fn entry_to_proto(entry: DocumentEntry) -> proto::DocumentEntry {
    let signature = |applied: Option<crate::records::AppliedSignature>| {
        applied.map(|s| proto::AppliedSignature {
            at: Some(s.at.into()),
            leader_id: s.leader.map(|l| l.to_string()).unwrap_or_default(),
            certificate_serial: s.certificate_serial,
        })
    };
    proto::DocumentEntry {
        unit_code: entry.unit.to_string(),
        direction: match entry.direction {
            Direction::Outgoing => proto::Direction::Outgoing,
            Direction::Incoming => proto::Direction::Incoming,
        }
        .into(),
        document_id: entry.document_id.to_string(),
        date: entry.date.to_string(),
        first_recorded_at: Some(entry.first_recorded_at.into()),
        channel: match entry.channel {
            Channel::Electronic => proto::Channel::Electronic,
            Channel::Paper => proto::Channel::Paper,
        }
        .into(),
        organisation_signature: signature(entry.organisation_signature),
        leader_signature: signature(entry.leader_signature),
        verdict: entry
            .verdict
            .map(|v| v.as_str().to_string())
            .unwrap_or_default(),
    }
}

type EntryStream = Pin<Box<dyn Stream<Item = Result<proto::DocumentEntry, Status>> + Send>>;

#[tonic::async_trait]
impl RecordsService for RecordsApi {
    async fn list_units(
        &self,
        _request: Request<proto::ListUnitsRequest>,
    ) -> Result<Response<proto::ListUnitsResponse>, Status> {
        let registry = self.store.units().await.map_err(ApiError::from)?;
        Ok(Response::new(proto::ListUnitsResponse {
            units: registry.units().iter().map(unit_to_proto).collect(),
        }))
    }

    async fn add_units(
        &self,
        request: Request<proto::AddUnitsRequest>,
    ) -> Result<Response<proto::AddUnitsResponse>, Status> {
        let request = request.into_inner();
        if request.units.is_empty() {
            return Err(invalid("units", "is empty").into());
        }
        let units = request
            .units
            .into_iter()
            .map(unit_from_proto)
            .collect::<Result<Vec<_>, _>>()?;
        let added = self
            .store
            .add_units(units, request.update_existing)
            .await
            .map_err(ApiError::from)?;
        tracing::info!(added = added.added, updated = added.updated, "units added");
        Ok(Response::new(proto::AddUnitsResponse {
            added: u32::try_from(added.added).unwrap_or(u32::MAX),
            updated: u32::try_from(added.updated).unwrap_or(u32::MAX),
        }))
    }

    async fn record_document(
        &self,
        request: Request<proto::RecordDocumentRequest>,
    ) -> Result<Response<proto::RecordDocumentResponse>, Status> {
        let record = record_from_proto(request.into_inner(), SystemTime::now())?;
        let outcome = self.store.record(&record).await.map_err(ApiError::from)?;
        Ok(Response::new(proto::RecordDocumentResponse {
            outcome: outcome_to_proto(outcome).into(),
        }))
    }

    async fn record_documents(
        &self,
        request: Request<proto::RecordDocumentsRequest>,
    ) -> Result<Response<proto::RecordDocumentsResponse>, Status> {
        let documents = request.into_inner().documents;
        if documents.is_empty() {
            return Err(invalid("documents", "is empty").into());
        }
        if documents.len() > MAX_BATCH {
            return Err(invalid(
                "documents",
                format!(
                    "holds {} documents; one call takes at most {MAX_BATCH}",
                    documents.len()
                ),
            )
            .into());
        }
        let now = SystemTime::now();
        let records = documents
            .into_iter()
            .enumerate()
            .map(|(index, document)| {
                record_from_proto(document, now).map_err(|e| match e {
                    ApiError::InvalidField { field, reason } => ApiError::InvalidField {
                        field,
                        reason: format!("document {index}: {reason}"),
                    },
                    other => other,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let outcomes = self
            .store
            .record_all(&records)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(proto::RecordDocumentsResponse {
            outcomes: outcomes
                .into_iter()
                .map(|o| outcome_to_proto(o).into())
                .collect(),
        }))
    }

    async fn get_signing_report(
        &self,
        request: Request<proto::SigningReportRequest>,
    ) -> Result<Response<proto::SigningReport>, Status> {
        let request = report_request(request.into_inner(), self.default_threshold)?;
        let registry = self.store.units().await.map_err(ApiError::from)?;
        let counts = self
            .store
            .counts(request.range)
            .await
            .map_err(ApiError::from)?;
        let report = report::build_report(&registry, &counts, &request).map_err(ApiError::from)?;
        Ok(Response::new(super::report::report_to_proto(&report)))
    }

    type ExportDocumentsStream = EntryStream;

    async fn export_documents(
        &self,
        request: Request<proto::ExportDocumentsRequest>,
    ) -> Result<Response<Self::ExportDocumentsStream>, Status> {
        let request = request.into_inner();
        let range = period(&request.from, &request.to, &request.month)?;
        let store = self.store.clone();
        let (sender, receiver) = tokio::sync::mpsc::channel(4);
        tokio::spawn(async move {
            let mut after = None;
            loop {
                let page = match store.entries(range, after.as_ref(), EXPORT_PAGE).await {
                    Ok(page) => page,
                    Err(e) => {
                        let _ = sender.send(Err(Status::from(ApiError::from(e)))).await;
                        return;
                    }
                };
                let last = page.last().map(|entry: &DocumentEntry| {
                    (
                        entry.unit.clone(),
                        entry.direction,
                        entry.document_id.clone(),
                    )
                });
                let full = page.len() == EXPORT_PAGE as usize;
                for entry in page {
                    if sender.send(Ok(entry_to_proto(entry))).await.is_err() {
                        return; // the client went away
                    }
                }
                match last {
                    Some(last) if full => after = Some(last),
                    _ => return,
                }
            }
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(receiver),
        )))
    }
}
