//! Append-only files (AOF): a parameter group with `appendonly yes` makes its nodes write one
//! (the catalogue lets only redis2.6 and redis2.8 groups change it). AWS's Multi-AZ guide:
//! "Multi-AZ with automatic failover and append-only files (AOF) are mutually exclusive", so
//! neither may be turned on while the other is.

use super::Model;
use super::parameter_group::ParameterGroup;
use crate::protocol::ApiError;

/// The refusal of AOF together with automatic failover. The wire code is the one AWS uses for
/// its other combination rules; the message is ours (AWS's exact text is not recorded).
pub fn aof_excludes_automatic_failover(parameter_group: &str, group_id: &str) -> ApiError {
    ApiError::InvalidParameterCombination(format!(
        "Automatic failover and append-only files (AOF) are mutually exclusive: cache parameter group {parameter_group} sets appendonly yes and replication group {group_id} has automatic failover enabled."
    ))
}

/// Refuses `automatic_failover` on `group_id` when its parameter group writes an AOF.
pub fn check(
    parameter_group: &ParameterGroup,
    group_id: &str,
    automatic_failover: bool,
) -> Result<(), ApiError> {
    match automatic_failover && parameter_group.append_only() {
        true => Err(aof_excludes_automatic_failover(
            &parameter_group.name,
            group_id,
        )),
        false => Ok(()),
    }
}

impl Model {
    /// A Modify that sets `appendonly yes` (`names` canonical, `values` as given, in the same
    /// order) on a group used by a replication group with automatic failover is refused.
    pub(super) fn refuse_aof_with_failover(
        &self,
        group: &ParameterGroup,
        names: &[String],
        values: &[(String, String)],
    ) -> Result<(), ApiError> {
        let turns_on = names
            .iter()
            .zip(values)
            .any(|(name, (_, value))| name == "appendonly" && value == "yes");
        if !turns_on {
            return Ok(());
        }
        let failing_over = self
            .groups_using(&group.name)
            .into_iter()
            .find(|id| self.group(id).is_ok_and(|g| g.settings.automatic_failover));
        match failing_over {
            Some(id) => Err(aof_excludes_automatic_failover(&group.name, &id)),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::scope::Scope;
    use crate::model::tests::{group, model_with};

    fn scope() -> Scope {
        Scope::new("123456789012", "us-east-1")
    }

    fn parameter_group(values: &[(&str, &str)]) -> ParameterGroup {
        let mut group = ParameterGroup::new("aof", "redis2.8", "aof", &scope()).unwrap();
        for (name, value) in values {
            group.values.insert(name.to_string(), value.to_string());
        }
        group
    }

    #[test]
    fn aof_and_automatic_failover_exclude_each_other() {
        let aof = parameter_group(&[("appendonly", "yes")]);
        assert!(aof.append_only());
        let error = check(&aof, "web", true).unwrap_err();
        assert_eq!(error.code(), "InvalidParameterCombination");
        assert!(check(&aof, "web", false).is_ok());
        assert!(check(&parameter_group(&[("appendonly", "no")]), "web", true).is_ok());
        assert!(check(&parameter_group(&[]), "web", true).is_ok());
    }

    #[test]
    fn aof_settings_reach_the_nodes_at_once() {
        let aof = parameter_group(&[("appendonly", "yes"), ("appendfsync", "always")]);
        let settings = aof.non_default_settings();
        assert!(settings.contains(&("appendonly".into(), "yes".into())));
        assert!(settings.contains(&("appendfsync".into(), "always".into())));
        assert!(aof.reboot_settings().is_empty(), "both are immediate");
    }

    #[test]
    fn modify_refuses_appendonly_on_a_group_used_with_automatic_failover() {
        let mut failing_over = group("web", 2, true);
        failing_over.settings.cache_parameter_group_name = Some("aof".into());
        let mut model = model_with(vec![failing_over]);
        model
            .create_parameter_group(parameter_group(&[]), &[])
            .unwrap();
        let on = [("appendonly".to_string(), "yes".to_string())];
        let error = model
            .modify_parameter_group("aof", &scope(), &on)
            .unwrap_err();
        assert_eq!(error.code(), "InvalidParameterCombination");
        let group = model.parameter_group("aof", &scope()).unwrap();
        assert!(!group.append_only(), "nothing was stored");
        let off = [("appendonly".to_string(), "no".to_string())];
        assert!(model.modify_parameter_group("aof", &scope(), &off).is_ok());
        model.group_mut("web").unwrap().settings.automatic_failover = false;
        assert!(model.modify_parameter_group("aof", &scope(), &on).is_ok());
    }
}
