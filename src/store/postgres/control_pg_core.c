/* control_pg_core: see control_pg_parts.h. */
#include "store/postgres/control_pg_parts.h"


void pgc_fill_core(store_control_ops *ops)
{
    (void)ops; /* to implement: bootstrap org_insert project_insert env_insert api_key_insert operator_token_insert org_get env_get api_key_revoke operator_token_revoke env_delete key_lookup token_lookup project_get env_find api_key_list api_key_count api_key_get env_secret */
}
