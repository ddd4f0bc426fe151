/* control_pg_plane: see control_pg_parts.h. */
#include "store/postgres/control_pg_parts.h"


void pgc_fill_plane(store_control_ops *ops)
{
    (void)ops; /* to implement: org_update org_delete project_list project_count project_update project_delete env_list env_set_status env_touch env_shutdown_idle env_deletions_due env_cancel_deletion env_place env_placement slots_reclaim envs_unplaced cluster_list activity_add activity_list outbox_add outbox_list org_outbox_list provider_put provider_get setting_put setting_get setting_delete */
}
