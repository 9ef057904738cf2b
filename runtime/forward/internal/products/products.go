// Package products reads the products an event's properties describe, the
// one shape every ad platform adapter maps to its own content fields.
package products

import (
	"encoding/json"
	"strconv"
)

// Item is one product of an event.
type Item struct {
	ID       string
	Name     string
	Brand    string
	Category string
	// Quantity is 0 when not given.
	Quantity int64
	// Price is the unit price, nil when not given.
	Price *float64
}

// Products are an event's content ids and items.
type Products struct {
	IDs   []string
	Items []Item
}

// Empty reports whether there is nothing to send.
func (p Products) Empty() bool { return len(p.IDs) == 0 && len(p.Items) == 0 }

// Read reads properties' content_ids (strings or numbers) and contents
// ([{id or content_id, quantity, item_price or price, name or
// content_name, brand, category}]). Unreadable properties yield nothing:
// products improve a platform's reporting, they never make an event
// unsendable.
func Read(props json.RawMessage) Products {
	if len(props) == 0 {
		return Products{}
	}
	var p struct {
		ContentIDs []flexString `json:"content_ids"`
		Contents   []struct {
			ID          flexString `json:"id"`
			ContentID   flexString `json:"content_id"`
			Name        string     `json:"name"`
			ContentName string     `json:"content_name"`
			Brand       string     `json:"brand"`
			Category    string     `json:"category"`
			Quantity    float64    `json:"quantity"`
			ItemPrice   *float64   `json:"item_price"`
			Price       *float64   `json:"price"`
		} `json:"contents"`
	}
	if json.Unmarshal(props, &p) != nil {
		return Products{}
	}
	var out Products
	for _, id := range p.ContentIDs {
		if id != "" {
			out.IDs = append(out.IDs, string(id))
		}
	}
	for _, c := range p.Contents {
		it := Item{ID: string(c.ID), Name: c.Name, Brand: c.Brand, Category: c.Category, Quantity: int64(c.Quantity), Price: c.ItemPrice}
		if it.ID == "" {
			it.ID = string(c.ContentID)
		}
		if it.Name == "" {
			it.Name = c.ContentName
		}
		if it.Price == nil {
			it.Price = c.Price
		}
		if it.ID != "" {
			out.Items = append(out.Items, it)
		}
	}
	return out
}

// flexString takes a JSON string or number: product ids come as either.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	if _, err := strconv.ParseFloat(n.String(), 64); err != nil {
		return err
	}
	*f = flexString(n.String())
	return nil
}
