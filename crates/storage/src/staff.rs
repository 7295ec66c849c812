//! Staff accounts and their sessions (stored as token hashes).

use crate::db::Db;
use crate::error::{Result, StorageError};
use diancan_domain::staff::{Role, StoreAccess};
use diancan_domain::{BrandId, StaffId, StoreId};
use sqlx::FromRow;
use uuid::Uuid;

pub struct NewStaff {
    pub brand_id: BrandId,
    pub login: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: Role,
    pub access: StoreAccess,
}

/// An account as the login check needs it.
#[derive(Debug, Clone)]
pub struct StaffAccount {
    pub id: StaffId,
    pub brand_id: BrandId,
    pub login: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: Role,
    pub active: bool,
}

/// An account as the staff list shows it (no password hash).
#[derive(Debug, Clone, PartialEq)]
pub struct StaffMember {
    pub id: StaffId,
    pub login: String,
    pub display_name: String,
    pub role: Role,
    pub active: bool,
    pub access: StoreAccess,
}

/// Who is behind a session token: enough to scope every query to their brand and stores.
#[derive(Debug, Clone)]
pub struct SessionStaff {
    pub staff_id: StaffId,
    pub brand_id: BrandId,
    pub display_name: String,
    pub login: String,
    pub role: Role,
    pub access: StoreAccess,
}

const INSERT_STAFF: &str = "INSERT INTO staff (id, brand_id, login, display_name, password_hash, role, all_stores, active, created_at_ms)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
const COUNT_BRANDS: &str = "SELECT count(*) FROM brands";
const INSERT_STAFF_STORE: &str = "INSERT INTO staff_stores (staff_id, store_id)
    SELECT $1, $2 WHERE EXISTS (SELECT 1 FROM stores WHERE id = $2 AND brand_id = $3)";
const SELECT_STAFF_BY_LOGIN: &str = "SELECT id, brand_id, login, display_name, password_hash, role, active FROM staff WHERE login = $1";
const INSERT_SESSION: &str = "INSERT INTO staff_sessions (token_hash, staff_id, brand_id, created_at_ms, expires_at_ms) VALUES ($1, $2, $3, $4, $5)";
const SELECT_SESSION: &str =
    "SELECT s.id, s.brand_id, s.login, s.display_name, s.role, s.all_stores
    FROM staff_sessions x JOIN staff s ON s.id = x.staff_id
    WHERE x.token_hash = $1 AND x.expires_at_ms > $2 AND s.active = $3";
const SELECT_STAFF_STORES: &str = "SELECT store_id FROM staff_stores WHERE staff_id = $1";
const DELETE_SESSION: &str = "DELETE FROM staff_sessions WHERE token_hash = $1";
const DELETE_EXPIRED_SESSIONS: &str = "DELETE FROM staff_sessions WHERE expires_at_ms <= $1";

#[derive(FromRow)]
struct AccountRow {
    id: Uuid,
    brand_id: Uuid,
    login: String,
    display_name: String,
    password_hash: String,
    role: String,
    active: bool,
}

#[derive(FromRow)]
struct SessionRow {
    id: Uuid,
    brand_id: Uuid,
    login: String,
    display_name: String,
    role: String,
    all_stores: bool,
}

fn role(text: &str) -> Result<Role> {
    Role::parse(text).ok_or_else(|| StorageError::Corrupt(format!("unknown role {text:?}")))
}

/// The first account of a fresh deployment: the owner of its first brand.
pub struct FirstOwner {
    pub brand_name: String,
    pub brand_slug: String,
    pub login: String,
    pub display_name: String,
    pub password_hash: String,
}

const SELECT_BRAND_STAFF: &str = "SELECT id, login, display_name, role, active, all_stores FROM staff WHERE brand_id = $1 ORDER BY created_at_ms";
const SELECT_BRAND_STAFF_STORES: &str = "SELECT x.staff_id, x.store_id FROM staff_stores x JOIN staff s ON s.id = x.staff_id WHERE s.brand_id = $1";
const UPDATE_STAFF: &str = "UPDATE staff SET display_name = $3, role = $4, all_stores = $5, active = $6 WHERE id = $1 AND brand_id = $2";
const UPDATE_PASSWORD: &str = "UPDATE staff SET password_hash = $3 WHERE id = $1 AND brand_id = $2";
const DELETE_STAFF_STORES: &str = "DELETE FROM staff_stores WHERE staff_id = $1";
const DELETE_STAFF_SESSIONS: &str = "DELETE FROM staff_sessions WHERE staff_id = $1";

/// What an owner changes about an account (the login stays; a password has its own call).
pub struct StaffChange {
    pub display_name: String,
    pub role: Role,
    pub access: StoreAccess,
    pub active: bool,
}

async fn write_store_access(
    tx: &mut crate::tx::Tx,
    brand: BrandId,
    staff: StaffId,
    access: &StoreAccess,
) -> Result<()> {
    on_tx!(tx, |c| sqlx::query(DELETE_STAFF_STORES)
        .bind(staff.as_uuid())
        .execute(&mut *c)
        .await
        .map(drop))?;
    if let StoreAccess::Only(stores) = access {
        for store in stores {
            let done = on_tx!(tx, |c| sqlx::query(INSERT_STAFF_STORE)
                .bind(staff.as_uuid())
                .bind(store.as_uuid())
                .bind(brand.as_uuid())
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected()))?;
            if done == 0 {
                return Err(StorageError::NotFound);
            }
        }
    }
    Ok(())
}

impl Db {
    /// The brand's accounts, oldest first, with the stores each works in.
    pub async fn brand_staff(&self, brand: BrandId) -> Result<Vec<StaffMember>> {
        let rows: Vec<(Uuid, String, String, String, bool, bool)> =
            on_pool!(self, |p| sqlx::query_as(SELECT_BRAND_STAFF)
                .bind(brand.as_uuid())
                .fetch_all(p)
                .await)?;
        let links: Vec<(Uuid, Uuid)> =
            on_pool!(self, |p| sqlx::query_as(SELECT_BRAND_STAFF_STORES)
                .bind(brand.as_uuid())
                .fetch_all(p)
                .await)?;
        rows.into_iter()
            .map(|(id, login, display_name, role_text, active, all_stores)| {
                let access = if all_stores {
                    StoreAccess::AllStores
                } else {
                    StoreAccess::Only(
                        links
                            .iter()
                            .filter(|(staff, _)| *staff == id)
                            .map(|(_, store)| StoreId::from_uuid(*store))
                            .collect(),
                    )
                };
                Ok(StaffMember {
                    id: StaffId::from_uuid(id),
                    login,
                    display_name,
                    role: role(&role_text)?,
                    active,
                    access,
                })
            })
            .collect()
    }

    /// Changes an account of the brand; a deactivated account's sessions end at once.
    pub async fn update_staff(
        &self,
        brand: BrandId,
        id: StaffId,
        change: &StaffChange,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let done = on_tx!(&mut tx, |c| sqlx::query(UPDATE_STAFF)
            .bind(id.as_uuid())
            .bind(brand.as_uuid())
            .bind(&change.display_name)
            .bind(change.role.as_str())
            .bind(matches!(change.access, StoreAccess::AllStores))
            .bind(change.active)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        if done == 0 {
            return Err(StorageError::NotFound);
        }
        write_store_access(&mut tx, brand, id, &change.access).await?;
        // A new role or fewer stores, or no access at all: the next request signs in again.
        on_tx!(&mut tx, |c| sqlx::query(DELETE_STAFF_SESSIONS)
            .bind(id.as_uuid())
            .execute(&mut *c)
            .await
            .map(drop))?;
        tx.commit().await
    }

    /// Sets a new password; every session of the account ends.
    pub async fn set_staff_password(&self, brand: BrandId, id: StaffId, hash: &str) -> Result<()> {
        let mut tx = self.begin().await?;
        let done = on_tx!(&mut tx, |c| sqlx::query(UPDATE_PASSWORD)
            .bind(id.as_uuid())
            .bind(brand.as_uuid())
            .bind(hash)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        if done == 0 {
            return Err(StorageError::NotFound);
        }
        on_tx!(&mut tx, |c| sqlx::query(DELETE_STAFF_SESSIONS)
            .bind(id.as_uuid())
            .execute(&mut *c)
            .await
            .map(drop))?;
        tx.commit().await
    }

    /// Creates the brand and its owner (every store) in one transaction, but only while the
    /// database has no brand at all: `None` when it already has one, and nothing is written.
    pub async fn create_first_owner(
        &self,
        owner: &FirstOwner,
        now_ms: i64,
    ) -> Result<Option<(crate::Brand, StaffId)>> {
        let mut tx = self.begin().await?;
        let brands: i64 = on_tx!(&mut tx, |c| sqlx::query_scalar(COUNT_BRANDS)
            .fetch_one(&mut *c)
            .await)?;
        if brands > 0 {
            return Ok(None);
        }
        let brand_id = BrandId::new();
        on_tx!(&mut tx, |c| sqlx::query(crate::tenancy::INSERT_BRAND)
            .bind(brand_id.as_uuid())
            .bind(&owner.brand_name)
            .bind(&owner.brand_slug)
            .bind(now_ms)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        let staff_id = StaffId::new();
        on_tx!(&mut tx, |c| sqlx::query(INSERT_STAFF)
            .bind(staff_id.as_uuid())
            .bind(brand_id.as_uuid())
            .bind(&owner.login)
            .bind(&owner.display_name)
            .bind(&owner.password_hash)
            .bind(Role::Owner.as_str())
            .bind(true)
            .bind(true)
            .bind(now_ms)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        tx.commit().await?;
        let brand = crate::Brand {
            id: brand_id,
            name: owner.brand_name.clone(),
            slug: owner.brand_slug.clone(),
        };
        Ok(Some((brand, staff_id)))
    }

    pub async fn create_staff(&self, staff: &NewStaff, now_ms: i64) -> Result<StaffId> {
        let id = StaffId::new();
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(INSERT_STAFF)
            .bind(id.as_uuid())
            .bind(staff.brand_id.as_uuid())
            .bind(&staff.login)
            .bind(&staff.display_name)
            .bind(&staff.password_hash)
            .bind(staff.role.as_str())
            .bind(matches!(staff.access, StoreAccess::AllStores))
            .bind(true)
            .bind(now_ms)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        write_store_access(&mut tx, staff.brand_id, id, &staff.access).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The brand's staff by id with their display names (an order's history names them).
    pub async fn staff_names(&self, brand: BrandId) -> Result<Vec<(StaffId, String)>> {
        let rows: Vec<(uuid::Uuid, String)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT id, display_name FROM staff WHERE brand_id = $1"
        )
        .bind(brand.as_uuid())
        .fetch_all(p)
        .await)?;
        Ok(rows
            .into_iter()
            .map(|(id, name)| (StaffId::from_uuid(id), name))
            .collect())
    }

    pub async fn staff_by_login(&self, login: &str) -> Result<StaffAccount> {
        let r: AccountRow = on_pool!(self, |p| sqlx::query_as(SELECT_STAFF_BY_LOGIN)
            .bind(login)
            .fetch_one(p)
            .await)?;
        Ok(StaffAccount {
            id: StaffId::from_uuid(r.id),
            brand_id: BrandId::from_uuid(r.brand_id),
            login: r.login,
            display_name: r.display_name,
            password_hash: r.password_hash,
            role: role(&r.role)?,
            active: r.active,
        })
    }

    pub async fn create_session(
        &self,
        token_hash: &[u8],
        staff_id: StaffId,
        brand_id: BrandId,
        now_ms: i64,
        expires_at_ms: i64,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(DELETE_EXPIRED_SESSIONS)
            .bind(now_ms)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        on_tx!(&mut tx, |c| sqlx::query(INSERT_SESSION)
            .bind(token_hash)
            .bind(staff_id.as_uuid())
            .bind(brand_id.as_uuid())
            .bind(now_ms)
            .bind(expires_at_ms)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        tx.commit().await
    }

    /// The staff member behind a live session, or `NotFound` for unknown, expired or deactivated ones.
    pub async fn session_staff(&self, token_hash: &[u8], now_ms: i64) -> Result<SessionStaff> {
        let r: SessionRow = on_pool!(self, |p| sqlx::query_as(SELECT_SESSION)
            .bind(token_hash)
            .bind(now_ms)
            .bind(true)
            .fetch_one(p)
            .await)?;
        let access = if r.all_stores {
            StoreAccess::AllStores
        } else {
            let stores: Vec<(Uuid,)> = on_pool!(self, |p| sqlx::query_as(SELECT_STAFF_STORES)
                .bind(r.id)
                .fetch_all(p)
                .await)?;
            StoreAccess::Only(
                stores
                    .into_iter()
                    .map(|(id,)| StoreId::from_uuid(id))
                    .collect(),
            )
        };
        Ok(SessionStaff {
            staff_id: StaffId::from_uuid(r.id),
            brand_id: BrandId::from_uuid(r.brand_id),
            display_name: r.display_name,
            login: r.login,
            role: role(&r.role)?,
            access,
        })
    }

    pub async fn delete_session(&self, token_hash: &[u8]) -> Result<()> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(DELETE_SESSION)
            .bind(token_hash)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        tx.commit().await
    }
}
