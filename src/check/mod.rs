pub mod suggest;
