package controllers

// Names of the objects the operator creates. They are part of the contract
// (DESIGN.md): users and tests look objects up by them.

func runtimeConfigMapName(site string) string { return site + "-runtime" }
func keysSecretName(site string) string       { return site + "-keys" }
func collectorName(site string) string        { return site + "-collector" }
func dashboardName(site string) string        { return site + "-dashboard" }
func forwarderName(site, dest string) string  { return site + "-fwd-" + dest }
func purgeName(site string) string            { return site + "-purge" }
func retentionName(site, policy string) string {
	return site + "-retention-" + policy
}
