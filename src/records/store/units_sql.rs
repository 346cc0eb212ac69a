//! Units and leaders in SQL.

use super::*;

pub(super) async fn read_units(connection: &mut AnyConnection) -> Result<Vec<Unit>, RecordsError> {
    // One statement, so units and leaders come from one snapshot.
    let rows = sqlx::query(
        "SELECT u.code, u.name, u.level, u.unit_group, u.parent, \
                l.leader_id, l.full_name \
         FROM units u LEFT JOIN leaders l ON l.unit_code = u.code \
         ORDER BY u.position, l.position",
    )
    .fetch_all(&mut *connection)
    .await
    .map_err(database)?;
    let mut units: Vec<Unit> = Vec::new();
    for row in &rows {
        let code = unit_code(&text(row, "code")?)?;
        if units.last().is_none_or(|unit| unit.code != code) {
            let parent: Option<String> = row.try_get("parent").map_err(database)?;
            units.push(Unit {
                name: text(row, "name")?,
                level: level_of(&text(row, "level")?)?,
                group: group_of(&text(row, "unit_group")?)?,
                parent: parent.as_deref().map(unit_code).transpose()?,
                leaders: Vec::new(),
                code,
            });
        }
        let leader: Option<String> = row.try_get("leader_id").map_err(database)?;
        if let (Some(leader), Some(unit)) = (leader, units.last_mut()) {
            unit.leaders.push(Leader {
                id: leader_id(&leader)?,
                full_name: text(row, "full_name")?,
            });
        }
    }
    Ok(units)
}

/// Inserts units with their leaders, parents before children: a parent sits
/// at a higher level than its child in any valid registry, so ordering by
/// level satisfies the foreign key.
pub(super) async fn insert_units(
    connection: &mut AnyConnection,
    mut units: Vec<(i64, &Unit)>,
) -> Result<(), RecordsError> {
    units.sort_by_key(|(_, unit)| unit.level);
    for (position, unit) in units {
        sqlx::query(
            "INSERT INTO units (code, name, level, unit_group, parent, position) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(unit.code.as_str())
        .bind(unit.name.as_str())
        .bind(level_name(unit.level))
        .bind(group_name(unit.group))
        .bind(unit.parent.as_ref().map(UnitCode::as_str))
        .bind(position)
        .execute(&mut *connection)
        .await
        .map_err(database)?;
        insert_leaders(connection, unit).await?;
    }
    Ok(())
}

pub(super) async fn insert_leaders(
    connection: &mut AnyConnection,
    unit: &Unit,
) -> Result<(), RecordsError> {
    for (position, leader) in (0_i64..).zip(&unit.leaders) {
        sqlx::query(
            "INSERT INTO leaders (unit_code, leader_id, full_name, position) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(unit.code.as_str())
        .bind(leader.id.as_str())
        .bind(leader.full_name.as_str())
        .bind(position)
        .execute(&mut *connection)
        .await
        .map_err(database)?;
    }
    Ok(())
}

/// Replaces a stored unit's fields and leaders; its position stays.
pub(super) async fn update_unit(
    connection: &mut AnyConnection,
    unit: &Unit,
) -> Result<(), RecordsError> {
    sqlx::query(
        "UPDATE units SET name = $2, level = $3, unit_group = $4, parent = $5 WHERE code = $1",
    )
    .bind(unit.code.as_str())
    .bind(unit.name.as_str())
    .bind(level_name(unit.level))
    .bind(group_name(unit.group))
    .bind(unit.parent.as_ref().map(UnitCode::as_str))
    .execute(&mut *connection)
    .await
    .map_err(database)?;
    sqlx::query("DELETE FROM leaders WHERE unit_code = $1")
        .bind(unit.code.as_str())
        .execute(&mut *connection)
        .await
        .map_err(database)?;
    insert_leaders(connection, unit).await
}

pub(super) async fn next_unit_position(
    connection: &mut AnyConnection,
) -> Result<i64, RecordsError> {
    sqlx::query("SELECT CAST(COALESCE(MAX(position), -1) + 1 AS BIGINT) AS next FROM units")
        .fetch_one(&mut *connection)
        .await
        .and_then(|row| row.try_get("next"))
        .map_err(database)
}

pub(super) async fn unit_exists(
    connection: &mut AnyConnection,
    unit: &UnitCode,
) -> Result<bool, RecordsError> {
    let row = sqlx::query("SELECT 1 AS found FROM units WHERE code = $1")
        .bind(unit.as_str())
        .fetch_optional(&mut *connection)
        .await
        .map_err(database)?;
    Ok(row.is_some())
}

pub(super) fn level_name(level: UnitLevel) -> &'static str {
    match level {
        UnitLevel::Province => "province",
        UnitLevel::District => "district",
        UnitLevel::Commune => "commune",
    }
}

pub(super) fn level_of(name: &str) -> Result<UnitLevel, RecordsError> {
    match name {
        "province" => Ok(UnitLevel::Province),
        "district" => Ok(UnitLevel::District),
        "commune" => Ok(UnitLevel::Commune),
        other => Err(corrupt("unit level", other)),
    }
}

pub(super) fn group_name(group: UnitGroup) -> &'static str {
    match group {
        UnitGroup::ProvinceOffice => "province_office",
        UnitGroup::Department => "department",
        UnitGroup::District => "district",
        UnitGroup::Commune => "commune",
    }
}

pub(super) fn group_of(name: &str) -> Result<UnitGroup, RecordsError> {
    match name {
        "province_office" => Ok(UnitGroup::ProvinceOffice),
        "department" => Ok(UnitGroup::Department),
        "district" => Ok(UnitGroup::District),
        "commune" => Ok(UnitGroup::Commune),
        other => Err(corrupt("unit group", other)),
    }
}
