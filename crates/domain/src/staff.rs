//! Staff roles and what each may do. Checked at the web edge, decided here.

use serde::{Deserialize, Serialize};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Manager,
    Cashier,
    Waiter,
    Kitchen,
    Rider,
}

/// Things a staff member may do; each role is a fixed set of them (the table in [`Role::can`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Create stores, change brand settings, manage staff.
    ManageBrand,
    /// Edit the brand menu: categories, dishes, specs, options, combos, images.
    EditMenu,
    /// Per-store prices, shelf and schedules, store settings, areas and tables.
    ManageStore,
    /// Stock counts and 沽清 (sold out): kitchens and cashiers do this all day.
    ManageStock,
    /// Open and clear tables, serve dishes to them (上菜).
    ServeTables,
    /// Record a payment taken at the counter (收款).
    RecordPayments,
    /// Accept a new order (接单).
    AcceptOrders,
    /// Start cooking and mark food ready (开始制作, 出餐).
    Cook,
    /// Hand a pickup order to the diner (取餐).
    HandOverOrders,
    /// Send a delivery order out (配送).
    DispatchDeliveries,
    /// 派单: give a delivery order to one of the store's riders or to a courier, or call it
    /// back. Riders carry deliveries; they do not hand them out.
    AssignDeliveries,
    /// Finish a dine-in or pickup order (完成).
    CompleteOrders,
    /// Finish a delivered order (the rider's last step).
    CompleteDeliveries,
    /// Cancel an order the store has not accepted and nobody has paid.
    CancelNewOrders,
    /// Cancel an accepted or paid order: the store loses food or refunds money.
    CancelAcceptedOrders,
    /// Confirm or decline a diner's request to cancel.
    DecideCancelRequests,
    /// See the console at all.
    ViewConsole,
    /// 对账: hold the gateways' statements against our books and resolve what disagrees. It
    /// covers every store's money, so it is brand-wide.
    ReconcilePayments,
    /// Recharge or correct a member's stored value (储值), and refund paid orders.
    ManageBalances,
    /// Configure membership (levels, points, member day, recharge tiers) and correct a
    /// member's points.
    ManageMembers,
    /// Look members up and read their ledgers (cashiers at the counter).
    ViewMembers,
    /// Compose and send campaigns (推送) to the brand's diners. It reaches every store's
    /// diners, so it is brand-wide.
    SendCampaigns,
    /// Set up promotions and coupon templates (营销). Their rules reach every store of the
    /// brand, so it is brand-wide.
    ManagePromotions,
}

impl Permission {
    /// Changes that reach every store of the brand: a staff member limited to some stores may
    /// not make them, whatever the role.
    pub fn is_brand_wide(self) -> bool {
        matches!(
            self,
            Permission::ManageBrand
                | Permission::EditMenu
                | Permission::ManageMembers
                | Permission::SendCampaigns
                | Permission::ManagePromotions
        )
    }
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Owner,
        Role::Manager,
        Role::Cashier,
        Role::Waiter,
        Role::Kitchen,
        Role::Rider,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Manager => "manager",
            Role::Cashier => "cashier",
            Role::Waiter => "waiter",
            Role::Kitchen => "kitchen",
            Role::Rider => "rider",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Role::Owner => "老板",
            Role::Manager => "店长",
            Role::Cashier => "收银",
            Role::Waiter => "服务员",
            Role::Kitchen => "后厨",
            Role::Rider => "骑手",
        }
    }

    /// The role table: who may do what. Owners and managers run everything in their stores
    /// (only owners the brand); cashiers take money and run the front; waiters serve tables;
    /// the kitchen cooks (and keeps 沽清) but takes no money; riders only deliver.
    pub fn can(self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Owner => true,
            Role::Manager => !matches!(permission, ManageBrand),
            Role::Cashier => matches!(
                permission,
                ManageStock
                    | ServeTables
                    | RecordPayments
                    | AcceptOrders
                    | HandOverOrders
                    | DispatchDeliveries
                    | AssignDeliveries
                    | CompleteOrders
                    | CancelNewOrders
                    | ViewConsole
                    | ViewMembers
            ),
            Role::Waiter => matches!(
                permission,
                ServeTables
                    | AcceptOrders
                    | HandOverOrders
                    | CompleteOrders
                    | CancelNewOrders
                    | ViewConsole
            ),
            Role::Kitchen => matches!(permission, ManageStock | AcceptOrders | Cook | ViewConsole),
            Role::Rider => matches!(
                permission,
                DispatchDeliveries | CompleteDeliveries | ViewConsole
            ),
        }
    }
}

/// Which stores a staff member works in: an owner sees all of the brand's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreAccess {
    AllStores,
    Only(Vec<crate::StoreId>),
}

impl StoreAccess {
    pub fn allows(&self, store: crate::StoreId) -> bool {
        match self {
            StoreAccess::AllStores => true,
            StoreAccess::Only(stores) => stores.contains(&store),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_owners_manage_the_brand_and_kitchens_only_touch_stock() {
        assert!(Role::Owner.can(Permission::ManageBrand));
        assert!(!Role::Manager.can(Permission::ManageBrand));
        assert!(Role::Manager.can(Permission::EditMenu));
        assert!(Role::Kitchen.can(Permission::ManageStock));
        assert!(!Role::Kitchen.can(Permission::EditMenu));
        assert!(!Role::Waiter.can(Permission::ManageStock));
        assert!(!Role::Kitchen.can(Permission::RecordPayments));
        assert!(!Role::Waiter.can(Permission::CancelAcceptedOrders));
        assert!(!Role::Rider.can(Permission::CompleteOrders));
        assert!(Permission::EditMenu.is_brand_wide());
        assert!(!Permission::ManageStock.is_brand_wide());
        assert!(Permission::SendCampaigns.is_brand_wide());
        assert!(Role::Manager.can(Permission::SendCampaigns));
        assert!(!Role::Cashier.can(Permission::SendCampaigns));
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
    }
}
