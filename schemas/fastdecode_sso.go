package schemas

func (d *scanner) ssoConnectorSaved(k string, v *SSOConnectorSaved) bool {
	switch k {
	case "kind":
		return d.str(&v.Kind)
	case "oidc":
		return d.object(func(k string) bool { return d.oidcConnector(k, &v.OIDC) })
	}
	return false
}

func (d *scanner) oidcConnector(k string, v *OIDCConnector) bool {
	switch k {
	case "name":
		return d.str(&v.Name)
	case "issuer_url":
		return d.str(&v.IssuerURL)
	case "client_id":
		return d.str(&v.ClientID)
	case "has_secret":
		return d.boolean(&v.HasSecret)
	case "scopes":
		return d.strs(&v.Scopes)
	case "username_claim":
		return d.str(&v.UsernameClaim)
	case "traits":
		return d.strsMap(&v.Traits)
	case "ca_pem":
		return d.str(&v.CAPEM)
	case "claims_to_roles":
		v.ClaimsToRoles = []ClaimMapping{}
		return d.array(func() bool {
			var m ClaimMapping
			ok := d.object(func(k string) bool {
				switch k {
				case "claim":
					return d.str(&m.Claim)
				case "value":
					return d.str(&m.Value)
				case "roles":
					return d.strs(&m.Roles)
				}
				return false
			})
			v.ClaimsToRoles = append(v.ClaimsToRoles, m)
			return ok
		})
	}
	return false
}
