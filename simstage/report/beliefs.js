// The report's belief graph and matrix, drawn from the data in #belief-data (simstage/report/belief_view.py,
// fact_view.py). The object picker lists facts too (values f0, f1, ...).
(function(){
  var D=JSON.parse(document.getElementById('belief-data').textContent);
  var NS='http://www.w3.org/2000/svg', NODE_H=22, TRUE='#15803d', FALSE='#dc2626', NONE='#9ca3af';
  var ANS=['yes','no',"don't know"], BOXES=['true','false',"don't know"];
  var svg=document.getElementById('beliefs'), info=document.getElementById('edgeinfo');
  var matrix=document.getElementById('matrix'), question=document.getElementById('question');
  var whoknows=document.getElementById('whoknows');
  var ROW={}; D.rows.forEach(function(r,i){ROW[r[2]]=i;});
  var slider=document.getElementById('turn'), turnlabel=document.getElementById('turnlabel');
  var pick={object:document.getElementById('object'),holder:document.getElementById('holder'),order:document.getElementById('order')};
  var rows=[].slice.call(document.querySelectorAll('.row'));
  var shown=D.turns.length-1;
  function el(tag,attrs,parent){var e=document.createElementNS(NS,tag);for(var k in attrs)e.setAttribute(k,attrs[k]);if(parent)parent.appendChild(e);return e;}
  function cell(k,obj,row){var a=D.cells[k][obj];return a.slice(row*6,row*6+6);}
  function fcell(k,f,row){var a=D.fcells[k][f];return a.slice(row*6,row*6+6);}
  function chosen(){var v=pick.object.value;return v.charAt(0)==='f'?{fact:+v.slice(1)}:{obj:+v};}
  function answer(v){return ANS[v<0?2:v===1?0:1];}
  function names(list){return list.length?list.map(function(i){return D.cast[i];}).join(', '):'nobody';}
  // Who the mind at the end of `row`'s chain thinks knows whether fact f holds, at shown turn k, as the
  // tracker has it (simstage/tom/facts.py thought_knowers); null where the page holds no deeper minds.
  function knows(row,f,k){
    var r=D.rows[row], full=[r[0]].concat(r[1]), last=full[full.length-1], mine=fcell(k,f,row)[0], out=[];
    for(var i=0;i<D.cast.length;i++){
      if(D.cast[i]===last){if(mine>=0)out.push(i);continue;}
      var deeper=ROW[full.concat([D.cast[i]]).join(' › ')];
      if(deeper===undefined) return null;
      var v=fcell(k,f,deeper)[0]; if(v>=0&&(mine<0||v===mine)) out.push(i);
    }
    return out;
  }
  function really(f,k){
    var out=[]; D.cast.forEach(function(n,i){var v=fcell(k,f,ROW[n])[0]; if(v>=0&&(v===1)===D.truth[f]) out.push(i);});
    return out;
  }
  // The model's latest who-knows answer asked of `row` (-1: the narrator) about fact f, up to turn t.
  function saidWho(row,f,t){
    var found=null; D.who_probes.forEach(function(p){if(p[0]<=t&&p[1]===row&&p[2]===f) found=p[3];});
    return found;
  }
  function same(a,b){return a.length===b.length&&a.every(function(x){return b.indexOf(x)>=0;});}
  function cname(i){return i<0?null:D.containers[i][0];}
  function words(row){var r=D.rows[row];return [r[0]].concat(r[1]).map(function(n){return n+' thinks';}).join(' ');}
  function describe(row,obj,c){
    var lines=[words(row)+' the '+D.objects[obj]+': '+(cname(c[0])||'no idea (knows only where '+(D.plural[obj]?'they are':'it is')+' not)')];
    if(c[1]<0) return lines.concat(['no belief']).join('\n');
    var real=D.reality[shown][obj];
    lines.push((c[0]<0?'':(c[0]===real?'true':'FALSE')+' · ')+'source '+D.sources[c[1]]+' · formed turn '+c[2]+(c[3]>=0?' · lie by '+D.cast[c[3]]:''));
    if(c[4]>=0) lines.push('model answered '+cname(c[4])+(c[4]===c[0]?' (agrees)':' (tracker: '+(cname(c[0])||'none')+')'));
    if(c[5]) lines.push('changed this turn');
    return lines.join('\n');
  }
  function describeFact(row,f,c){
    var lines=[words(row)+' that '+D.fact_text[f]+': '+(c[0]<0?"no belief (don't know)":c[0]===1?'true':'false')];
    if(c[1]>=0) lines.push(((c[0]===1)===D.truth[f]?'right':'WRONG')+' · source '+D.fsources[c[1]]+' · formed turn '+c[2]+(c[3]>=0?' · lie by '+D.cast[c[3]]:''));
    if(c[4]>=0) lines.push('model answered '+ANS[c[4]]+(ANS[c[4]]===answer(c[0])?' (agrees)':' (tracker: '+answer(c[0])+')'));
    var who=knows(row,f,shown);
    if(who) lines.push('thinks these know: '+names(who));
    if(c[5]) lines.push('changed this turn');
    return lines.join('\n');
  }
  function tell(text){info.textContent=text;}
  function box(g,x,y,w,label,cls,title){
    var n=el('g',{'class':'node '+cls},g);
    el('rect',{x:x,y:y,width:w,height:NODE_H,rx:cls.indexOf('mind')>=0?11:3,'class':'shape'},n);
    var t=el('text',{x:x+w/2,y:y+15,'text-anchor':'middle','class':'label'},n); t.textContent=label;
    if(title){el('title',{},n).textContent=title;}
    return n;
  }
  function canvas(view,width,height){
    svg.setAttribute('width',width); svg.setAttribute('height',height);
    svg.setAttribute('viewBox','0 0 '+width+' '+height);
    var defs=el('defs',{},svg);
    [['t',TRUE],['f',FALSE],['n',NONE]].forEach(function(m){
      var mk=el('marker',{id:'arrow-'+m[0],viewBox:'0 0 10 10',refX:9,refY:5,markerWidth:7,markerHeight:7,orient:'auto'},defs);
      el('path',{d:'M0,0 L10,5 L0,10 z',fill:m[1]},mk);
    });
    var g={links:el('g',{'class':'links'},svg), edges:el('g',{'class':'edges'},svg), nodes:el('g',{'class':'nodes'},svg), at:{}};
    view.minds.forEach(function(m){g.at[m[0]]=m;});
    view.links.forEach(function(l){
      var a=g.at[l[0]], b=g.at[l[1]], x1=a[1]+a[3], y1=a[2]+NODE_H/2, x2=b[1], y2=b[2]+NODE_H/2, mx=(x1+x2)/2;
      el('path',{d:'M'+x1+','+y1+' C'+mx+','+y1+' '+mx+','+y2+' '+x2+','+y2,'class':'link'},g.links);
    });
    return g;
  }
  function wire(g,m,b,cls,colour,mark,row,text){
    var x1=m[1]+m[3], y1=m[2]+NODE_H/2, x2=b[0]-2, y2=b[1]+NODE_H/2, mx=(x1+x2)/2;
    var d='M'+x1+','+y1+' C'+mx+','+y1+' '+mx+','+y2+' '+x2+','+y2;
    var e=el('g',{'class':'belief '+cls,'data-row':row},g.edges);
    el('title',{},e).textContent=text;
    el('path',{d:d,stroke:colour,'marker-end':'url(#arrow-'+mark+')','class':'wire'},e);
    el('path',{d:d,'class':'hit'},e);
    e.addEventListener('mouseenter',function(){tell(text);});
    e.addEventListener('click',function(){tell(text);});
  }
  function deepWords(holder,order){
    var who=holder?holder:'each character';
    return who+' thinks'+(order===1?'':order===2?' another thinks':' others think ('+order+' minds deep)');
  }
  function drawFact(view,f,holder,order){
    var k=shown, fv=view.fact, g=canvas(view,fv.width,fv.height), truth=D.truth[f]?0:1, used={};
    view.minds.forEach(function(m){
      var row=m[0], r=D.rows[row], c=fcell(k,f,row), leaf=r[1].length===order-1;
      var label=r[1].length?r[1][r[1].length-1]:r[0];
      if(leaf&&c[4]>=0) label+=' · model: '+ANS[c[4]]+(ANS[c[4]]===answer(c[0])?' ✓':' ✗');
      var cls='mind'+(leaf?' leaf':'')+(leaf&&c[4]>=0&&ANS[c[4]]!==answer(c[0])?' disagrees':'');
      var n=box(g.nodes,m[1],m[2],m[3],label,cls,r[2]);
      n.addEventListener('click',function(){tell(describeFact(row,f,c));});
      if(!leaf) return;
      var at=c[0]<0?2:c[0]===1?0:1, ok=at===truth;
      used[at]=true;
      wire(g,m,fv.boxes[at],(c[0]<0?'none':ok?'true':'false')+(c[3]>=0?' lie':'')+(c[5]?' changed':''),
        c[0]<0?NONE:ok?TRUE:FALSE,c[0]<0?'n':ok?'t':'f',row,describeFact(row,f,c));
    });
    el('text',{x:fv.heads[0][0],y:fv.heads[0][1]+15,'class':'label room'},g.nodes).textContent=D.facts[f];
    el('text',{x:fv.heads[1][0],y:fv.heads[1][1]+15,'class':'label room'},g.nodes).textContent='who knows';
    BOXES.forEach(function(name,i){
      var b=fv.boxes[i];
      box(g.nodes,b[0],b[1],b[2],name,'container'+(i===truth?' real':used[i]?'':' unused'),name+(i===truth?': the truth':''));
    });
    var real=really(f,k), thinks=holder?knows(ROW[holder],f,k):null;
    D.cast.forEach(function(name,i){
      var b=fv.names[i], thought=thinks&&thinks.indexOf(i)>=0, knowsIt=real.indexOf(i)>=0;
      box(g.nodes,b[0],b[1],b[2],(thought?'✓ ':'')+name,'container who'+(knowsIt?' real':'')+(thought?' thought':''),
        name+(knowsIt?' really knows':' does not really know')+(thinks?(thought?'; ':'; not ')+'what '+holder+' thinks knows':''));
    });
    question.textContent='Is it true that '+D.fact_text[f]+'? ('+(D.truth[f]?'It is.':'It is not.')+') What '+deepWords(holder,order)+
      ', at turn '+D.turns[k]+'; gold: the truth and who really knows'+(holder?'; ✓: who '+holder+' thinks knows':'')+'.';
  }
  function drawGraph(){
    var sel=chosen(), obj=sel.obj, holder=pick.holder.value, order=+pick.order.value;
    var view=D.views[holder+'|'+order], k=shown;
    while(svg.firstChild) svg.removeChild(svg.firstChild);
    var what=sel.fact===undefined?'The '+D.objects[obj]:'Whether '+D.fact_text[sel.fact];
    if(view.too_many){
      // Too many minds for a legible graph (simstage/report/belief_view.py MAX_DRAWN): the matrix lists them.
      svg.setAttribute('width',640); svg.setAttribute('height',40); svg.setAttribute('viewBox','0 0 640 40');
      el('text',{x:12,y:24,'class':'label room'},svg).textContent=view.too_many+' minds: too many to draw; pick one holder (the matrix lists them all).';
      question.textContent=what+', at turn '+D.turns[k]+'.';
      return;
    }
    if(sel.fact!==undefined) return drawFact(view,sel.fact,holder,order);
    var real=D.reality[k][obj], g=canvas(view,view.width,view.height), used={};
    view.minds.forEach(function(m){
      var row=m[0], r=D.rows[row], c=cell(k,obj,row), leaf=r[1].length===order-1;
      var name=r[1].length?r[1][r[1].length-1]:r[0], label=name;
      if(leaf&&c[4]>=0) label+=' · model: '+cname(c[4])+(c[4]===c[0]?' ✓':' ✗');
      var cls='mind'+(leaf?' leaf':'')+(leaf&&c[4]>=0&&c[4]!==c[0]?' disagrees':'');
      var n=box(g.nodes,m[1],m[2],m[3],label,cls,r[2]);
      n.addEventListener('click',function(){tell(describe(row,obj,c));});
      if(!leaf||c[0]<0) return;
      used[c[0]]=true;
      var ok=c[0]===real;
      wire(g,m,view.boxes[c[0]],(ok?'true':'false')+(c[3]>=0?' lie':'')+(c[5]?' changed':''),ok?TRUE:FALSE,ok?'t':'f',row,describe(row,obj,c));
    });
    view.rooms.forEach(function(r){var t=el('text',{x:r[1],y:r[2]+15,'class':'label room'},g.nodes);t.textContent=r[0];});
    D.containers.forEach(function(cn,i){
      var b=view.boxes[i];
      box(g.nodes,b[0],b[1],b[2],cn[0],'container'+(i===real?' real':used[i]?'':' unused'),cn[0]+' ('+cn[1]+')'+(i===real?': the '+D.objects[obj]+(D.plural[obj]?' are here':' is here'):''));
    });
    question.textContent='The '+D.objects[obj]+': where '+deepWords(holder,order)+(D.plural[obj]?' they are':' it is')+', at turn '+D.turns[k]+'.';
  }
  function drawWhoKnows(){
    var sel=chosen(), f=sel.fact, holder=pick.holder.value, order=+pick.order.value, k=shown, t=D.turns[k];
    if(f===undefined){whoknows.replaceChildren(); return;}
    var table=document.createElement('table'); table.className='matrix who';
    var cap=document.createElement('caption'); cap.textContent='Who knows whether '+D.fact_text[f]+'?'; table.appendChild(cap);
    var head=table.insertRow(), th=document.createElement('th'); th.textContent='who thinks'; head.appendChild(th);
    D.cast.concat(['model said']).forEach(function(n){var h=document.createElement('th');h.textContent=n;head.appendChild(h);});
    function line(label,set,said){
      var tr=table.insertRow(), name=document.createElement('th'); name.textContent=label; tr.appendChild(name);
      D.cast.forEach(function(n,i){var td=tr.insertCell(); td.textContent=set.indexOf(i)>=0?'✓':'·';});
      var td=tr.insertCell();
      if(said){td.textContent=names(said)+(same(said,set)?' ✓':''); if(!same(said,set)) td.className='false';}
    }
    line('really knows',really(f,k),saidWho(-1,f,t));
    D.rows.forEach(function(r,row){
      if((holder&&r[0]!==holder)||r[1].length>=order) return;
      var set=knows(row,f,k); if(set) line(r[2]+' thinks',set,saidWho(row,f,t));
    });
    whoknows.replaceChildren(table);
  }
  function drawMatrix(){
    var sel=chosen(), holder=pick.holder.value, order=+pick.order.value, k=shown;
    var table=document.createElement('table'); table.className='matrix';
    var head=table.insertRow(); var th=document.createElement('th'); th.textContent='holder › chain'; head.appendChild(th);
    D.objects.forEach(function(o,i){var h=document.createElement('th');h.textContent=o;if(i===sel.obj)h.className='sel';head.appendChild(h);});
    D.facts.forEach(function(o,f){var h=document.createElement('th');h.textContent=o;h.title=D.fact_text[f];h.className='fact'+(f===sel.fact?' sel':'');head.appendChild(h);});
    D.rows.forEach(function(r,row){
      if((holder&&r[0]!==holder)||r[1].length>=order) return;
      var tr=table.insertRow(); var name=document.createElement('th'); name.textContent=r[2]; tr.appendChild(name);
      D.objects.forEach(function(o,i){
        var c=cell(k,i,row), td=tr.insertCell(), real=D.reality[k][i];
        td.textContent=cname(c[0])||'–';
        var cls=[]; if(i===sel.obj) cls.push('sel'); if(c[0]>=0&&c[0]!==real) cls.push('false'); if(c[5]) cls.push('changed');
        td.className=cls.join(' '); td.title=describe(row,i,c);
        if(c[4]>=0&&c[4]!==c[0]){var m=document.createElement('span');m.className='mark';m.textContent=' ≠ '+cname(c[4]);td.appendChild(m);}
      });
      D.facts.forEach(function(o,f){
        var c=fcell(k,f,row), td=tr.insertCell();
        td.textContent=c[0]<0?'–':c[0]===1?'true':'false';
        var cls=['fact']; if(f===sel.fact) cls.push('sel'); if(c[0]>=0&&(c[0]===1)!==D.truth[f]) cls.push('false'); if(c[5]) cls.push('changed');
        td.className=cls.join(' '); td.title=describeFact(row,f,c);
        if(c[4]>=0&&ANS[c[4]]!==answer(c[0])){var m=document.createElement('span');m.className='mark';m.textContent=' ≠ said '+ANS[c[4]];td.appendChild(m);}
      });
    });
    matrix.replaceChildren(table);
  }
  function render(){drawGraph(); drawWhoKnows(); drawMatrix();}
  function show(index){
    shown=Math.max(0,Math.min(D.turns.length-1,index|0));
    var t=D.turns[shown]; slider.value=shown; turnlabel.textContent='turn '+t;
    document.body.setAttribute('data-shown-turn',String(t));
    rows.forEach(function(r){r.classList.toggle('current',parseInt(r.getAttribute('data-turn'),10)===t);});
    render();
  }
  function fromUrl(){
    var m=/(?:^|[#?&])turn=(\d+)/.exec(location.hash)||/(?:^|[?&])turn=(\d+)/.exec(location.search);
    if(!m) return null;
    var want=parseInt(m[1],10), best=0;
    D.turns.forEach(function(t,i){if(t<=want) best=i;});
    return best;
  }
  function viewFromUrl(){
    // #turn=N&object=NAME&holder=NAME&order=K: a view can be linked to (and screenshotted).
    var hash=location.hash.replace(/^#/,'').split('&'), want={};
    hash.forEach(function(p){var kv=p.split('=');if(kv.length===2)want[kv[0]]=decodeURIComponent(kv[1]);});
    // #fact=NAME (or #object=NAME naming a fact) opens that fact's view.
    var name=want.fact!==undefined?want.fact:want.object;
    if(name!==undefined){
      var i=want.fact===undefined?D.objects.indexOf(name):-1, f=D.facts.indexOf(name);
      if(i>=0)pick.object.value=String(i); else if(f>=0)pick.object.value='f'+f;
    }
    if(want.holder!==undefined&&(want.holder===''||D.cast.indexOf(want.holder)>=0))pick.holder.value=want.holder;
    if(want.order!==undefined&&+want.order>=1&&+want.order<=D.order)pick.order.value=want.order;
  }
  slider.addEventListener('input',function(){show(parseInt(slider.value,10));});
  for(var key in pick) pick[key].addEventListener('change',render);
  window.addEventListener('hashchange',function(){viewFromUrl(); var i=fromUrl(); show(i===null?shown:i);});
  viewFromUrl(); var start=fromUrl(); show(start===null?D.turns.length-1:start);
})();
