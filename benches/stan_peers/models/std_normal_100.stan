// 100-dimensional iid standard normal (as std_normal_100.sde).
parameters {
  vector[100] x;
}
model {
  x ~ std_normal();
}
