/* control_pg_team: see control_pg_parts.h. */
#include "store/postgres/control_pg_parts.h"


void pgc_fill_team(store_control_ops *ops)
{
    (void)ops; /* to implement: member_insert member_get member_find_email member_list member_set_role member_remove member_transfer operator_token_list operator_token_get invitation_insert invitation_get invitation_lookup invitation_list invitation_revoke invitation_accept usage_mau_known alert_add alert_list delivery_add deliveries_due delivery_update delivery_list usage_sum usage_add usage_list usage_rollup usage_envs */
}
