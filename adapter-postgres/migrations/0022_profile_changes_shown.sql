-- Of a profile, catalogue pages show the shop name and whether its user sells (docs/architecture.md,
-- "Caching the catalogue"): a buyer editing their address or phone no longer drops every
-- instance's cached catalogue answers.
drop trigger profiles_catalog_updates on profiles;
create trigger profiles_catalog_updates after update of shop_name, is_seller, is_owner on profiles
    for each row
    when ((old.shop_name, old.is_seller, old.is_owner)
          is distinct from (new.shop_name, new.is_seller, new.is_owner))
    execute function announce_catalog_change();
