//! Typed access to nested objects of a resource's attributes: blocks (`ingress`,
//! `block_device_mappings`) and object-typed attributes (`identity[0].oidc[0].issuer`).
//!
//! Generated L1 handles return an object-reference type per nested object (a newtype over
//! `Expr<Dynamic>` with one getter per attribute), wrapped in [`NestedList`], [`NestedSet`]
//! or [`NestedMap`] by the nesting mode.

use std::fmt;
use std::marker::PhantomData;

use super::{Dynamic, Expr, Number, fns};

/// A list of nested objects; `R` is the generated reference type of one object.
pub struct NestedList<R> {
    expr: Expr<Dynamic>,
    item: PhantomData<fn() -> R>,
}

/// A set of nested objects. Terraform cannot index a set; convert it with
/// [`NestedSet::to_list`] (`tolist(...)`) when an element is needed.
pub struct NestedSet<R> {
    expr: Expr<Dynamic>,
    item: PhantomData<fn() -> R>,
}

/// A map of nested objects.
pub struct NestedMap<R> {
    expr: Expr<Dynamic>,
    item: PhantomData<fn() -> R>,
}

macro_rules! nested_common {
    ($name:ident) => {
        impl<R> $name<R> {
            /// Wrap the expression of the whole collection.
            pub fn new(expr: Expr<Dynamic>) -> Self {
                Self {
                    expr,
                    item: PhantomData,
                }
            }

            /// The expression of the whole collection.
            pub fn expr(&self) -> Expr<Dynamic> {
                self.expr.clone()
            }
        }

        impl<R> Clone for $name<R> {
            fn clone(&self) -> Self {
                Self::new(self.expr.clone())
            }
        }

        impl<R> PartialEq for $name<R> {
            fn eq(&self, other: &Self) -> bool {
                self.expr == other.expr
            }
        }

        impl<R> fmt::Debug for $name<R> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.expr)
            }
        }
    };
}

nested_common!(NestedList);
nested_common!(NestedSet);
nested_common!(NestedMap);

impl<R: From<Expr<Dynamic>>> NestedList<R> {
    /// The object at `index` (`list[index]`).
    pub fn get(&self, index: impl Into<Expr<Number>>) -> R {
        R::from(self.expr.index::<Dynamic, Number>(index))
    }

    /// The first object (`list[0]`): the usual way to read a block with at most one item.
    pub fn first(&self) -> R {
        self.get(0)
    }
}

impl<R: From<Expr<Dynamic>>> NestedSet<R> {
    /// The set as a list (`tolist(set)`), in Terraform's set order.
    pub fn to_list(&self) -> NestedList<R> {
        NestedList::new(fns::call("tolist", [self.expr.clone()]))
    }
}

impl<R: From<Expr<Dynamic>>> NestedMap<R> {
    /// The object at `key` (`map["key"]`).
    pub fn get(&self, key: impl Into<Expr<String>>) -> R {
        R::from(self.expr.index::<Dynamic, String>(key))
    }
}
